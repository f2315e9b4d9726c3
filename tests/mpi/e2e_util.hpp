#pragma once
// Runs the distsgd command (under mpirun) as a user would, with a hard time
// limit, and reads what it leaves behind.
#include <nlohmann/json.hpp>

#include <string>

namespace distsgd::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
  double seconds = 0.0;
};

// The distsgd binary (DISTSGD_TEST_BINARY when set, else the build's primary
// distsgd: ctest runs the same tests under each MPI the build holds,
// tests/mpi/CMakeLists.txt) and the command that launches it on this host,
// ready for "-np N": what `distsgd info --launcher` prints, the command
// distsgd compare uses.
const std::string& distsgd_binary();
const std::string& mpi_launcher();

// Runs `<launcher> -np <ranks> distsgd <args>` (ranks 0: distsgd alone), killed
// after `limit_s` (exit code 124 then).
CommandResult run_distsgd(int ranks, const std::string& args, double limit_s = 300);
CommandResult run_shell(const std::string& command, double limit_s);
nlohmann::json read_json(const std::string& path);
std::string make_temp_dir(const std::string& name);

}  // namespace distsgd::testing
