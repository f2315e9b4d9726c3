#include "sim/cluster.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/errors.hpp"

namespace distsgd::sim {

Cluster::Cluster(SimSettings settings, GradientSource* source,
                 std::function<double(int64_t)> lr)
    : settings_(std::move(settings)),
      source_(source),
      lr_(std::move(lr)),
      network_(settings_.nodes, settings_.network, settings_.link_queues),
      compute_(settings_.compute, settings_.config, workers_of(settings_.config, settings_.nodes)),
      times_(static_cast<std::size_t>(settings_.nodes)),
      intervals_(static_cast<std::size_t>(settings_.nodes)),
      last_step_end_(static_cast<std::size_t>(settings_.nodes), 0.0) {}

math::SgdHyper Cluster::hyper() const {
  return {config().momentum, config().weight_decay, config().nesterov};
}

BatchId Cluster::batch(int worker, int64_t step) const {
  return {worker, step / settings_.steps_per_epoch, step % settings_.steps_per_epoch, step};
}

void Cluster::gradient(int worker, int64_t step, std::span<const float> params,
                       std::span<float> buffers, std::span<float> grad) {
  const auto figures = source_->gradient(batch(worker, step), params, buffers, grad);
  if (!std::isfinite(figures.loss))
    throw RuntimeFailure(fmt::format("loss is {} at step {} (epoch {}) on simulated node {}",
                                     figures.loss, step, step / settings_.steps_per_epoch + 1,
                                     worker));
  const double weight = steps_ == 0 ? 1.0 : 0.01;
  loss_ema_ += weight * (figures.loss - loss_ema_);
  accuracy_ema_ += weight * (figures.accuracy - accuracy_ema_);
}

bool Cluster::evaluation_due(int64_t steps) const {
  // Timing only: nothing to evaluate, so no meeting for it either.
  if (!real() || steps >= settings_.total_steps) return false;
  const int64_t every = config().eval_every > 0 ? config().eval_every : settings_.steps_per_epoch;
  return steps % every == 0;
}

void Cluster::step_done(int worker) {
  auto& node = times(worker);
  auto& last = last_step_end_[static_cast<std::size_t>(worker)];
  intervals_[static_cast<std::size_t>(worker)].push_back(now() - last);
  last = now();
  ++node.steps;
  ++steps_;
  if (node.steps == settings_.total_steps) node.finished_s = now();
}

}  // namespace distsgd::sim
