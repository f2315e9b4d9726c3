#pragma once
// How long a worker's step takes in the simulator: the measured (or given)
// time of one training step, times the lognormal jitter of --compute-jitter,
// plus the delays of --straggler and --straggler-random drawn by the engine's
// own rule (core/fault_injection.hpp), so a simulated straggler is the same
// straggler as in a real run.
//
// Every figure is a function of (seed, worker, step) only: the order in which
// the simulator asks does not change it.
#include <cstdint>
#include <vector>

#include "core/config.hpp"
#include "core/fault_injection.hpp"

namespace distsgd::sim {

struct ComputeSettings {
  double step_s = 0.0;          // one step: forward, backward, optimizer
  double jitter_sigma = 0.0;    // --compute-jitter: sigma of a lognormal factor of mean 1
  bool stragglers = true;       // false: ignore --straggler and --straggler-random
};

// A step's time: the computation (jittered), then the injected delay (the
// engine sleeps after the backward pass, so gradients are ready before it).
struct StepTime {
  double compute_s = 0.0, delay_s = 0.0;
  double total() const { return compute_s + delay_s; }
};

class ComputeModel {
 public:
  // `config`: the run's flags (seed, --straggler, --straggler-random);
  // `workers`: how many nodes compute.
  ComputeModel(const ComputeSettings& settings, const TrainConfig& config, int workers);

  // Step `step` (counted from 0) of `worker`.
  StepTime step(int worker, int64_t step) const;
  double base_step_s() const { return settings_.step_s; }
  const ComputeSettings& settings() const { return settings_; }

 private:
  // The jitter factor exp(sigma z - sigma^2 / 2), z standard normal from (seed, worker, step).
  double jitter(int worker, int64_t step) const;

  ComputeSettings settings_;
  uint64_t seed_;
  std::vector<FaultInjection> faults_;  // one per worker
};

}  // namespace distsgd::sim
