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

// Runs `mpirun -np <ranks> distsgd <args>` (ranks 0: distsgd alone), killed
// after `limit_s` (exit code 124 then).
CommandResult run_distsgd(int ranks, const std::string& args, double limit_s = 300);
CommandResult run_shell(const std::string& command, double limit_s);
nlohmann::json read_json(const std::string& path);
std::string make_temp_dir(const std::string& name);

}  // namespace distsgd::testing
