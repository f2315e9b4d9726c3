#pragma once
// The version of LibTorch this build links, "MAJOR.MINOR.PATCH" (for
// core/runtime_versions.hpp; the models module is where LibTorch is linked).
#include <string>

namespace distsgd::models {

std::string libtorch_version();

}  // namespace distsgd::models
