#pragma once
// The versions of what distsgd runs on, as summary.json, checkpoints and
// `distsgd info` report them: {"distsgd", "libtorch", "mpi", "compiler"}.
//
// distsgd's own version and the compiler are facts of this build, known here;
// the two libraries are reported by the modules that link them (core links
// neither): models::libtorch_version() and comm::Environment::library_version().
#include <nlohmann/json.hpp>
#include <string>

namespace distsgd {

nlohmann::json runtime_versions(const std::string& libtorch, const std::string& mpi);

}  // namespace distsgd
