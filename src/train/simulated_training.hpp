#pragma once
// `distsgd simulate`: a run of --algo on a virtual cluster of --nodes nodes
// in this one process (src/sim), training the real model on the real data
// (or, with --timing-only, no gradients at all). One model is
// time-multiplexed over the nodes' flat states: a node costs its flat
// vectors, not a model. Writes summary.json ("simulated": true, every time
// virtual) and metrics.sim.jsonl (the evaluations) to --log-dir.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/config.hpp"

namespace distsgd {

struct SimulateOptions {
  int nodes = 1;
  std::string network = "free";     // a profile, a spec, or a calibration file
  std::string allreduce = "ring";   // ring | tree | halving-doubling | openmpi
  std::optional<double> compute_ms;  // a step's compute; unset: measured here
  // A server's update, nanoseconds per float of its shard; unset: measured here.
  std::optional<double> server_update_ns;
  double compute_jitter = 0.0;      // sigma of the lognormal factor
  // The nodes share this many cores (a real run oversubscribed on this
  // machine): a step's compute is multiplied by max(1, computing nodes / cores).
  std::optional<int> host_cores;
  bool timing_only = false;
  bool link_queues = true;
  bool overlap = true;
  bool stragglers = true;
  bool stop_at_target = false;
};

// ConfigError for a bad option (named); returns the summary (also written).
nlohmann::json run_simulation(const TrainConfig& config, const SimulateOptions& options);

}  // namespace distsgd
