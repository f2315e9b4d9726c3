#include "core/runtime_versions.hpp"

namespace distsgd {

nlohmann::json runtime_versions(const std::string& libtorch, const std::string& mpi) {
  return {{"distsgd", DISTSGD_VERSION_STRING},
          {"libtorch", libtorch},
          {"mpi", mpi},
          {"compiler", __VERSION__}};
}

}  // namespace distsgd
