#include "cli/compare_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "algorithms/make_algorithm.hpp"
#include "cli/compare_plan.hpp"
#include "cli/simulate_flags.hpp"
#include "cli/train_flags.hpp"
#include "comm/mpi_launcher.hpp"
#include "core/errors.hpp"

namespace distsgd::cli {

std::map<std::string, std::string> CompareOptions::flags_by_method() const {
  std::map<std::string, std::string> flags;
  for (const auto& entry : method_flags) {
    const auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0)
      throw ConfigError(
          "--method-flags must be METHOD=FLAGS, for example 'asgd=--momentum 0.5' (got '" + entry +
          "')");
    flags[entry.substr(0, equals)] +=
        (flags.count(entry.substr(0, equals)) ? " " : "") + entry.substr(equals + 1);
  }
  return flags;
}

std::vector<std::string> CompareOptions::args_for(const std::string& algo) const {
  auto args = train_args;
  const auto extra = flags_by_method();
  if (extra.count(algo)) {
    // Split the method's extra flags on spaces (no quoting needed for flags).
    std::istringstream words(extra.at(algo));
    for (std::string word; words >> word;) args.push_back(word);
  }
  return args;
}

std::vector<std::string> CompareOptions::sim_args() const {
  std::vector<std::string> args;
  std::istringstream words(sim_flags);
  for (std::string word; words >> word;) args.push_back(word);
  return args;
}

namespace {
// The simulator's own flags, parsed as `distsgd simulate` would (ConfigError
// for an unknown one or a bad value, before anything runs).
void check_sim_args(std::vector<std::string> args) {
  for (const auto& arg : args)
    if (arg == "--nodes" || arg.rfind("--nodes=", 0) == 0)
      throw ConfigError("compare: --sim-flags must not set --nodes (use compare's --nodes)");
  CLI::App app("simulate");
  SimulateOptions options;
  add_simulate_flags(app, options);
  args.insert(args.end(), {"--nodes", "1"});
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& error) {
    throw ConfigError(fmt::format("compare: --sim-flags: {}", error.what()));
  }
}
}  // namespace

std::string CompareOptions::launcher() const {
  // The launcher of the MPI this distsgd is linked against: a job started by
  // another MPI's launcher would be N separate single-rank jobs.
  const auto mpi = comm::mpi_launcher();
  const std::string hosts = hostfile.empty() ? "" : " " + mpi.hostfile_flag + " " + hostfile;
  if (!mpirun.empty()) return mpirun + hosts;
  // One host, possibly more ranks than cores; BLAS threads per rank pinned to 1.
  return mpi.one_host_command + hosts;
}

void CompareOptions::validate() const {
  if (nodes.empty() || algos.empty())
    throw ConfigError("compare: --nodes and --algos must not be empty");
  for (int n : nodes) {
    if (n < 1) throw ConfigError(fmt::format("compare: --nodes must be at least 1 (got {})", n));
  }
  if (repeat < 1)
    throw ConfigError(fmt::format("compare: --repeat must be at least 1 (got {})", repeat));
  const auto known = algorithm_names();
  const auto extra = flags_by_method();
  for (const auto& [algo, flags] : extra) {
    if (std::find(algos.begin(), algos.end(), algo) == algos.end())
      throw ConfigError("compare: --method-flags names '" + algo + "', which is not in --algos");
  }
  for (const auto& arg : train_args) {
    if (arg == "--algo" || arg.rfind("--algo=", 0) == 0 || arg == "--log-dir" ||
        arg.rfind("--log-dir=", 0) == 0)
      throw ConfigError("compare: " + arg + " is set by compare itself (use --algos and --out)");
  }
  parse_train_args(train_args);
  if (!sim_flags.empty() && !simulate)
    throw ConfigError("compare: --sim-flags needs --simulate");
  if (simulate) check_sim_args(sim_args());
  if (!straggler.empty()) {
    TrainConfig probe;
    probe.straggler = straggler;
    probe.validate();
  }
  for (const auto& algo : algos) {
    if (std::find(known.begin(), known.end(), algo) == known.end())
      throw ConfigError(
          fmt::format("compare: unknown method '{}' (known: {})", algo, fmt::join(known, ", ")));
    const auto args = args_for(algo);
    parse_train_args(args);
    bool possible = false;
    for (int n : nodes) possible = possible || why_impossible(algo, n, args, "").empty();
    if (!possible)
      throw ConfigError(fmt::format("compare: {} cannot run at any of the node counts {}: {}", algo,
                                    fmt::join(nodes, ","),
                                    why_impossible(algo, nodes.front(), args, "")));
  }
  // --out must be writable: create it and a file in it now.
  std::error_code error;
  std::filesystem::create_directories(out, error);
  const auto probe = out + "/.write-test";
  if (!std::ofstream(probe))
    throw ConfigError("compare: --out " + out + " cannot be written" +
                      (error ? ": " + error.message() : std::string()));
  std::filesystem::remove(probe, error);
}

}  // namespace distsgd::cli
