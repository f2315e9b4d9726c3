#include "models/libtorch_version.hpp"

#include <fmt/format.h>
#include <torch/version.h>

namespace distsgd::models {

std::string libtorch_version() {
  return fmt::format("{}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH);
}

}  // namespace distsgd::models
