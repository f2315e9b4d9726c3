#pragma once
// Faults injected into this rank, to measure what slow, failing or departing
// nodes do to a method: --straggler (this rank computes FACTOR times slower),
// --straggler-random (each step is delayed MS ms with probability P),
// --inject-nan (this rank's loss becomes NaN at one step) and --leave-early
// (this worker stops after some steps).
//
// The random delay is drawn from a stream of its own, a function of (seed,
// rank, step) only: deterministic, so a resumed run draws the same delays, and
// independent of the augmentation's draws for the same step.
#include <cstdint>
#include <optional>

#include "core/config.hpp"

namespace distsgd {

// Uniform in [0, 1): the fault stream's draw for `step` of `rank`.
double fault_draw(uint64_t seed, int rank, int64_t step);

class FaultInjection {
 public:
  // The faults of `config` that fall on `rank` (validate() has checked them).
  FaultInjection(const TrainConfig& config, int rank);

  // The number of steps this rank runs of a job of `total_steps`: fewer when
  // it leaves early.
  int64_t steps_to_run(int64_t total_steps) const;
  // Whether this rank's loss is to be NaN at `step`.
  bool nan_at(int64_t step) const { return nan_step_ && *nan_step_ == step; }
  // The delay to add after `step`, whose computation took `compute_s`.
  double delay_s(int64_t step, double compute_s) const;
  // Sleeps for delay_s(step, compute_s) and counts it.
  void delay(int64_t step, double compute_s);
  // The delays slept so far (summary: injected_s_per_worker).
  double injected_s() const { return injected_s_; }

 private:
  uint64_t seed_;
  int rank_;
  double slowdown_ = 1.0;                                 // --straggler factor of this rank
  std::optional<TrainConfig::RandomDelay> random_delay_;  // --straggler-random (every rank)
  std::optional<int64_t> nan_step_;                       // --inject-nan on this rank
  std::optional<int64_t> leave_after_;                    // --leave-early on this rank
  double injected_s_ = 0.0;
};

}  // namespace distsgd
