#pragma once
// What `distsgd compare` runs: every method at every node count, repeated, with
// and without a straggler, each a separate mpirun job of `distsgd train`.
#include <map>
#include <string>
#include <vector>

namespace distsgd::cli {

struct CompareOptions {
  std::vector<int> nodes = {1, 2, 4};
  std::vector<std::string> algos = {"allreduce",   "asgd",      "easgd",     "gossip-pull",
                                    "gossip-push", "local-sgd", "gossip-pga"};
  int repeat = 1;
  std::string out = "runs/compare";
  std::string straggler;  // "RANK:FACTOR": also run every configuration with it
  std::string mpirun;     // the launcher command; empty: the default for this host
  std::string hostfile;   // passed to the launcher (Open MPI: --hostfile, Hydra: -f)
  std::vector<std::string>
      method_flags;  // "asgd=--momentum 0.5 --lr 0.15": extra flags of one method
  std::vector<std::string> train_args;  // any other `distsgd train` flag, for every run
  bool simulate = false;  // runs of `distsgd simulate --nodes N` instead of mpirun jobs
  std::string sim_flags;  // extra `distsgd simulate` flags (--network, --timing-only, ...)
  std::string command_line;             // how compare was called, for the report

  // Checks everything that can be checked before anything runs; throws
  // ConfigError naming the problem (unknown method, no possible node count,
  // bad train flags, an --out that cannot be written).
  void validate() const;
  // The extra flags of each method, from method_flags.
  std::map<std::string, std::string> flags_by_method() const;
  // The train flags of one method's runs: train_args and its --method-flags.
  std::vector<std::string> args_for(const std::string& algo) const;
  // sim_flags split into words.
  std::vector<std::string> sim_args() const;
  // The launcher with its flags, ready for "-np N <binary> train ...".
  std::string launcher() const;
};

}  // namespace distsgd::cli
