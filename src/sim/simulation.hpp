#pragma once
// One simulated run: the cluster, the method's driver, the evaluations due at
// epoch ends and after the last step, and summary.json's figures (in the form
// of `distsgd train`'s, with "simulated": true and every time virtual: the
// seconds the cluster would take, not those the simulator took).
#include <functional>
#include <nlohmann/json.hpp>

#include "sim/cluster.hpp"

namespace distsgd::sim {

struct SimOutcome {
  nlohmann::json summary;
  std::vector<nlohmann::json> evaluations;  // the metrics file's "eval" records
};

// `source` null: timing only (no evaluations). `record` (optional) receives
// each evaluation record as it is made. Throws what the cores throw, and
// RuntimeFailure when the run ends with a worker that did not finish (a
// deadlock of the simulation: named, never a hang).
SimOutcome simulate(const SimSettings& settings, GradientSource* source,
                    const std::function<double(int64_t)>& lr,
                    const std::function<void(const nlohmann::json&)>& record = {});

}  // namespace distsgd::sim
