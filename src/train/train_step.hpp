#pragma once
// One training step of a worker, the same for every method:
//   the rank's batch -> forward/backward (gradient buckets handed to the
//   method as they are ready) -> the NaN policy -> before_step -> optimizer
//   step (unless the method applies the update) -> after_step -> metrics.
//
// A non-finite loss: --nan-policy stop ends the run with an error naming the
// step and the last good checkpoint; skip zeroes the gradient before the
// method sees it and drops this rank's update (counted in the position).
#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "core/config.hpp"
#include "train/replica.hpp"
#include "train/training_position.hpp"

namespace distsgd {

namespace data {
class Dataset;
}
namespace metrics {
class JsonlWriter;
}
namespace models {
class Model;
}
class Checkpointer;
class FaultInjection;
class GradientBuckets;
class LrSchedule;
class RunClock;

// The seed of the augmentation of `rank`'s batch at `step`: a function of
// (seed, rank, step) only, so a resumed run, and the simulator, draw the
// same random crops and flips.
uint64_t augment_seed(uint64_t seed, int rank, int64_t step);

// What a step works on; the run owns all of it.
struct StepParts {
  const TrainConfig& config;
  int rank;
  const data::Dataset& train;
  models::Model& model;
  c10::Device device;
  Replica replica;
  GradientBuckets* buckets;  // null: the method takes the whole gradient in before_step
  Algorithm& method;
  const MethodTraits& traits;
  const LrSchedule& schedule;
  FaultInjection& faults;
  metrics::JsonlWriter& metrics;
  const RunClock& clock;
  const Checkpointer& checkpoints;  // the last good one, for the NaN message
};

class TrainStep {
 public:
  explicit TrainStep(StepParts parts);

  // The step at `position` (its step and epoch), on the batch at
  // `step_in_epoch` of this epoch's `shard`; advances the position.
  void run(const std::vector<int64_t>& shard, int64_t step_in_epoch, TrainingPosition& position);

  // The progress line's figures: moving averages of the loss and the training
  // accuracy over the finite steps.
  double loss_ema() const { return loss_ema_; }
  double accuracy_ema() const { return accuracy_ema_; }
  // The wall time of each step this run took.
  const std::vector<double>& step_times() const { return step_times_; }
  std::vector<double> take_step_times() { return std::move(step_times_); }

 private:
  void record(int64_t step, double loss, double accuracy);

  StepParts parts_;
  NanPolicy nan_policy_;
  math::SgdHyper hyper_;
  std::vector<double> step_times_;
  double loss_ema_ = 0.0, accuracy_ema_ = 0.0;
};

}  // namespace distsgd
