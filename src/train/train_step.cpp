#include "train/train_step.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "core/errors.hpp"
#include "core/timeline.hpp"
#include "data/dataset.hpp"
#include "metrics/jsonl_writer.hpp"
#include "models/flat_parameters.hpp"
#include "models/model.hpp"
#include "train/checkpointer.hpp"
#include "core/fault_injection.hpp"
#include "train/gradient_buckets.hpp"
#include "train/lr_schedule.hpp"
#include "train/run_clock.hpp"

namespace distsgd {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

// Per-batch augmentation seed: a function of (seed, rank, step) only, so a
// resumed run draws the same random crops and flips.
uint64_t augment_seed(uint64_t seed, int rank, int64_t step) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(rank) << 40) ^
               static_cast<uint64_t>(step);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  return x ^ (x >> 29);
}


TrainStep::TrainStep(StepParts parts)
    : parts_(std::move(parts)),
      nan_policy_(parts_.config.nan_policy_kind()),
      hyper_{parts_.config.momentum, parts_.config.weight_decay, parts_.config.nesterov} {}

void TrainStep::run(const std::vector<int64_t>& shard, int64_t step_in_epoch,
                    TrainingPosition& position) {
  const auto& config = parts_.config;
  auto& flat = parts_.replica.flat;
  const int64_t step = position.step;
  const auto started = Clock::now();
  timeline::Span step_span("step", "train", "step", step);
  timeline::Phases phase;
  phase.begin("data", "data");  // batch gathering
  const std::span<const int64_t> indices(shard.data() + step_in_epoch * config.batch_size,
                                         static_cast<std::size_t>(config.batch_size));
  auto batch = parts_.train.batch(
      indices, config.augment ? std::optional(augment_seed(config.seed, parts_.rank, step))
                              : std::nullopt);
  auto inputs = batch.inputs.to(parts_.device);
  auto targets = batch.targets.to(parts_.device);
  phase.end();

  const StepInfo info{step, position.epoch, parts_.schedule.at(step)};
  parts_.method.begin_step(info);
  flat.zero_grads();
  if (parts_.buckets) parts_.buckets->begin_step();
  phase.begin("forward", "compute");
  auto logits = parts_.model.forward(inputs);
  auto loss = torch::nn::functional::cross_entropy(logits, targets);
  phase.begin("backward", "compute");
  if (parts_.faults.nan_at(step)) loss = loss * std::numeric_limits<double>::quiet_NaN();
  loss.backward();
  if (parts_.buckets) parts_.buckets->end_backward();
  phase.end();
  parts_.faults.delay(step, seconds_since(started));

  const double loss_value = loss.item<double>();
  const bool finite_loss = std::isfinite(loss_value);
  if (!finite_loss && nan_policy_ == NanPolicy::stop) {
    const auto last = parts_.checkpoints.last();
    throw RuntimeFailure(fmt::format(
        "loss is {} at step {} (epoch {}) on rank {}{}{}", loss_value, step, position.epoch + 1,
        parts_.rank, last ? "; last good checkpoint: " + *last : std::string(),
        !parts_.traits.stale_updates
            ? ""
            : " (asynchronous updates add momentum of their own: try a lower "
              "--lr or --momentum; asgd: --asgd-rule momentum, the default, allows for it)"));
  }
  // --nan-policy skip: a non-finite gradient is replaced by zeros before the
  // method sees it, and this rank's own update is dropped. Synchronous workers
  // all see the same averaged gradient, so they all drop the same step.
  // (A bucketed method has its exchange in flight already: it drops the step
  // by the check of the averaged gradient below.)
  if (!finite_loss && !parts_.traits.gradient_buckets) flat.zero_grads();
  phase.begin("before step", "method");
  parts_.method.before_step(parts_.replica.view(), info);
  phase.end();
  const bool skip =
      nan_policy_ == NanPolicy::skip && (!finite_loss || !math::all_finite(flat.grad_span()));
  if (skip) {
    ++position.skipped_steps;
    fmt::print(stderr, "distsgd: rank {}: {} at step {}: update skipped (--nan-policy skip)\n",
               parts_.rank, finite_loss ? "non-finite gradient" : "non-finite loss", step);
  }
  if (!parts_.traits.applies_update && !skip) {
    timeline::Span span("optimizer", "compute");
    math::sgd_step(flat.param_span(), flat.grad_span(), parts_.replica.momentum, hyper_, info.lr);
  }
  // A fresh view: the first SGD step allocates the momentum buffer.
  phase.begin("after step", "method");
  parts_.method.after_step(parts_.replica.view(), info);
  phase.end();

  ++position.step;
  position.samples += config.batch_size;
  step_times_.push_back(seconds_since(started));
  const double accuracy = logits.argmax(1).eq(targets).to(torch::kFloat64).mean().item<double>();
  if (finite_loss) record(position.step, loss_value, accuracy);
  parts_.metrics.write({{"type", "step"},
                        {"step", position.step},
                        {"epoch", position.epoch},
                        {"wall_s", parts_.clock.wall_s()},
                        {"loss", loss_value},
                        {"lr", info.lr},
                        {"samples", position.samples}});
}

// `step`: the number of steps taken, this one included.
void TrainStep::record(int64_t step, double loss, double accuracy) {
  const double weight = step == 1 ? 1.0 : 0.05;
  loss_ema_ += weight * (loss - loss_ema_);
  accuracy_ema_ += weight * (accuracy - accuracy_ema_);
}

}  // namespace distsgd
