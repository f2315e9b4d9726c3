#pragma once
// The list of runs of a comparison, in the order they run: for each node
// count, each method, each repeat, first without and then with the straggler.
// A method that cannot run at a node count (a parameter server needs 2 ranks)
// is kept in the list as skipped, with the reason.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/compare_options.hpp"
#include "core/config.hpp"

namespace distsgd::cli {

struct PlannedRun {
  std::string name;  // also its directory under <out>/runs
  std::string algo;
  int nodes = 0;
  int repeat = 0;         // 1-based
  std::string straggler;  // "" or RANK:FACTOR
  std::string skip_reason;
  std::vector<std::string> train_args;  // everything after `distsgd train`, but --log-dir
};

// Evaluations per run when the train flags give no cadence (--eval-every or
// --evaluations): enough points for a curve.
inline constexpr int kDefaultEvaluations = 12;

std::vector<PlannedRun> plan_runs(const CompareOptions& options);

// The train flags as `distsgd train` would parse them; unknown flags and bad
// values are ConfigErrors (before anything runs).
TrainConfig parse_train_args(const std::vector<std::string>& args);

// Why `algo` cannot run on `nodes` ranks with `train_args` (and the straggler),
// or "" when it can.
std::string why_impossible(const std::string& algo, int nodes,
                           const std::vector<std::string>& train_args,
                           const std::string& straggler);

}  // namespace distsgd::cli
