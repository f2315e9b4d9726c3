#include "sim/sim_local_sgd.hpp"

#include <algorithm>

#include "sim/sim_allreduce.hpp"

namespace distsgd::sim {

SimLocalSgd::SimLocalSgd(Cluster& cluster) : cluster_(cluster) {}

int64_t SimLocalSgd::epoch_of(int64_t step) const {
  return step / std::max<int64_t>(1, cluster_.settings().steps_per_epoch);
}

// The trainer's rule: a checkpoint at the end of every --checkpoint-every-th
// epoch, the last one included.
bool SimLocalSgd::checkpoint_due(int64_t steps) const {
  const auto& config = cluster_.config();
  const int64_t per_epoch = std::max<int64_t>(1, cluster_.settings().steps_per_epoch);
  return config.checkpoint_every > 0 && steps % per_epoch == 0 &&
         (steps / per_epoch) % config.checkpoint_every == 0;
}

void SimLocalSgd::start() {
  const auto& config = cluster_.config();
  const int n = cluster_.settings().nodes;
  std::vector<float> initial, buffers;
  if (cluster_.real()) {
    initial = cluster_.source().initial_params();
    buffers = cluster_.source().initial_buffers();
  }
  grad_sum_.assign(initial.size(), 0.0f);
  nodes_.resize(static_cast<std::size_t>(n));
  for (auto& node : nodes_) {
    node.params = initial;
    node.grad.assign(initial.size(), 0.0f);
    node.buffers = buffers;
    node.schedule.emplace(config.local_steps, config.post_local_after);
  }
  for (int i = 0; i < n; ++i) cluster_.events().at(0.0, [this, i] { next(i); });
}

// What node `i` does at its next step: join the others for a synchronous
// step, or step alone.
void SimLocalSgd::next(int i) {
  auto& node = nodes_[static_cast<std::size_t>(i)];
  if (node.step >= cluster_.settings().total_steps) return;
  if (node.schedule->synchronous(epoch_of(node.step)))
    arrive(i, Meeting::synchronous_step);
  else
    local_step(i);
}

void SimLocalSgd::local_step(int i) {
  auto& node = nodes_[static_cast<std::size_t>(i)];
  const auto time = cluster_.compute().step(i, node.step);
  cluster_.times(i).compute_s += time.total();
  if (cluster_.real()) {
    cluster_.gradient(i, node.step, node.params, node.buffers, node.grad);
    math::sgd_step(node.params, node.grad, node.momentum, cluster_.hyper(),
                   cluster_.lr(node.step));
  }
  cluster_.events().after(time.total(), [this, i] {
    auto& n = nodes_[static_cast<std::size_t>(i)];
    cluster_.step_done(i);
    ++n.step;
    if (n.schedule->local_step_done())
      arrive(i, Meeting::average);
    else
      after_step(i);
  });
}

// The epoch-end meetings of the engine's trainer, in its order: the
// evaluation (not after the last step), then the checkpoint.
void SimLocalSgd::after_step(int i) {
  const auto steps = nodes_[static_cast<std::size_t>(i)].step;
  if (cluster_.evaluation_due(steps)) {
    arrive(i, Meeting::evaluation);
    return;
  }
  if (checkpoint_due(steps)) {
    arrive(i, Meeting::checkpoint);
    return;
  }
  next(i);
}

void SimLocalSgd::arrive(int i, Meeting meeting) {
  waiting_.push_back(i);
  cluster_.times(i).wait_s -= cluster_.now();  // plus the time the meeting ends
  if (waiting_.size() < nodes_.size()) return;
  const double now = cluster_.now();
  for (int node : waiting_) cluster_.times(node).wait_s += now;
  waiting_.clear();
  const int n = static_cast<int>(nodes_.size());
  switch (meeting) {
    case Meeting::synchronous_step:
      synchronous_step();
      return;
    case Meeting::evaluation:
      cluster_.evaluation_point();
      // The checkpoint of the same epoch end follows.
      for (int node = 0; node < n; ++node) {
        if (checkpoint_due(nodes_[static_cast<std::size_t>(node)].step))
          arrive(node, Meeting::checkpoint);
        else
          next(node);
      }
      return;
    case Meeting::average:
    case Meeting::checkpoint: {
      const bool checkpoint = meeting == Meeting::checkpoint;
      const bool momentum = checkpoint || cluster_.config().average_momentum;
      average_models(momentum, checkpoint);
      const double floats =
          static_cast<double>(cluster_.settings().numel) * (momentum ? 2.0 : 1.0);
      // The engine keeps a checkpoint's time out of the training time: its
      // average (inside the checkpoint) changes the replicas but costs no
      // training time here either.
      const double cost = n == 1 || checkpoint
                              ? 0.0
                              : allreduce_s(cluster_.settings().allreduce, n,
                                            Cluster::bytes(1) * floats, cluster_.settings().network);
      average_s_ += cost;
      for (int node = 0; node < n; ++node) {
        cluster_.times(node).comm_s += cost;
        if (checkpoint) nodes_[static_cast<std::size_t>(node)].schedule->averaged();
      }
      cluster_.events().after(cost, [this, n, checkpoint] {
        for (int node = 0; node < n; ++node) {
          if (checkpoint)
            next(node);
          else
            after_step(node);
        }
      });
      return;
    }
  }
}

// Every node is here: SimAllReduce's step, each replica stepping with the mean gradient.
void SimLocalSgd::synchronous_step() {
  const int n = static_cast<int>(nodes_.size());
  const double start = cluster_.now();
  const int64_t step = nodes_.front().step;
  std::vector<StepTime> times;
  for (int node = 0; node < n; ++node) times.push_back(cluster_.compute().step(node, step));
  if (cluster_.real()) {
    std::fill(grad_sum_.begin(), grad_sum_.end(), 0.0f);
    for (int i = 0; i < n; ++i) {
      auto& node = nodes_[static_cast<std::size_t>(i)];
      cluster_.gradient(i, step, node.params, node.buffers, node.grad);
      for (std::size_t k = 0; k < grad_sum_.size(); ++k) grad_sum_[k] += node.grad[k];
    }
    math::scale(grad_sum_, 1.0f / static_cast<float>(n));
    for (auto& node : nodes_)
      math::sgd_step(node.params, grad_sum_, node.momentum, cluster_.hyper(), cluster_.lr(step));
  }
  const double end = allreduce_step_end(cluster_.settings(), start, times);
  exposed_comm_s_ += book_synchronous_step(cluster_, start, end, times);
  ++synchronous_steps_;
  cluster_.events().at(end, [this, n] {
    for (int node = 0; node < n; ++node) {
      cluster_.step_done(node);
      ++nodes_[static_cast<std::size_t>(node)].step;
    }
    for (int node = 0; node < n; ++node) after_step(node);
  });
}

// The mean over the nodes of one of their vectors (`of` picks it); empty when
// the nodes hold none (timing only, no statistics, momentum before a step).
template <typename Of>
std::vector<float> SimLocalSgd::mean_over_nodes(Of of) const {
  std::vector<float> mean(of(nodes_.front()).size(), 0.0f);
  for (const auto& node : nodes_) {
    const auto& values = of(node);
    for (std::size_t k = 0; k < mean.size(); ++k) mean[k] += values[k];
  }
  math::scale(mean, 1.0f / static_cast<float>(nodes_.size()));
  return mean;
}

void SimLocalSgd::average_models(bool momentum, bool buffers) {
  ++averages_;
  if (!cluster_.real()) return;
  const auto replace = [this](auto of) {
    const auto mean = mean_over_nodes(of);
    for (auto& node : nodes_) of(node) = mean;
  };
  replace([](auto& node) -> auto& { return node.params; });
  if (buffers) replace([](auto& node) -> auto& { return node.buffers; });
  if (momentum) replace([](auto& node) -> auto& { return node.momentum.buffer; });
}

EvalTarget SimLocalSgd::evaluation_target() {
  EvalTarget target;
  if (!cluster_.real()) return target;
  target.params = mean_over_nodes([](auto& node) -> auto& { return node.params; });
  target.buffers = mean_over_nodes([](auto& node) -> auto& { return node.buffers; });
  double distance = 0.0;
  for (const auto& node : nodes_)
    distance += math::relative_squared_distance(node.params, target.params);
  consensus_.push_back(distance / static_cast<double>(nodes_.size()));
  target.figures["consensus_distance"] = consensus_.back();
  return target;
}

nlohmann::json SimLocalSgd::summary() const {
  return {{"local_steps", cluster_.config().local_steps},
          {"post_local_after_epochs", cluster_.config().post_local_after},
          {"average_momentum", cluster_.config().average_momentum},
          {"model_averages", averages_},
          {"model_average_s", average_s_},
          {"synchronous_steps", synchronous_steps_},
          {"allreduce_exposed_s", exposed_comm_s_},
          {"consensus_history", consensus_}};
}

}  // namespace distsgd::sim
