#include "train/lr_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace distsgd {

namespace {
// --lr-scaling: linear (Goyal et al. 2017) for synchronous methods' larger
// global batch; sqrt (Krizhevsky 2014) a gentler one; inverse, lr / workers,
// for ASGD, whose updates arrive about `workers` versions stale.
double scaling(const std::string& rule, int workers) {
  if (rule == "linear") return workers;
  if (rule == "sqrt") return std::sqrt(static_cast<double>(workers));
  if (rule == "inverse") return 1.0 / workers;
  return 1.0;
}
}  // namespace

LrSchedule::LrSchedule(const TrainConfig& config, int workers, int64_t steps_per_epoch)
    : config_(config),
      base_(config.lr * scaling(config.lr_scaling, workers)),
      steps_per_epoch_(std::max<int64_t>(1, steps_per_epoch)) {}

double LrSchedule::at(int64_t step) const {
  const double epoch = static_cast<double>(step) / static_cast<double>(steps_per_epoch_);
  double lr = base_;
  if (config_.lr_schedule == "cosine") {
    lr *= 0.5 * (1.0 + std::cos(std::numbers::pi * std::min(1.0, epoch / config_.epochs)));
  } else {
    for (int64_t decay_epoch : config_.lr_decay_epochs)
      if (epoch >= static_cast<double>(decay_epoch)) lr *= config_.lr_decay;
  }
  const double warmup_steps = config_.warmup_epochs * static_cast<double>(steps_per_epoch_);
  if (static_cast<double>(step) < warmup_steps) lr *= static_cast<double>(step + 1) / warmup_steps;
  return lr;
}

}  // namespace distsgd
