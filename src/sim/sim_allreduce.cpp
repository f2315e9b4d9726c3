#include "sim/sim_allreduce.hpp"

#include <algorithm>

namespace distsgd::sim {

double allreduce_step_end(const SimSettings& settings, double start_s,
                          const std::vector<StepTime>& nodes) {
  double slowest = 0.0, slowest_compute = 0.0;
  for (const auto& node : nodes) {
    slowest = std::max(slowest, node.total());
    slowest_compute = std::max(slowest_compute, node.compute_s);
  }
  const int n = static_cast<int>(nodes.size());
  if (n == 1 || settings.bucket_numels.empty()) return start_s + slowest;
  int64_t total = 0;
  for (auto numel : settings.bucket_numels) total += numel;
  const double bf = settings.backward_fraction;
  double previous_end = start_s, done_floats = 0.0;
  for (auto numel : settings.bucket_numels) {
    done_floats += static_cast<double>(numel);
    // Bucket ready on every node: the latest of the nodes' backward progress.
    double ready = start_s + slowest_compute;
    if (settings.overlap) {
      ready = start_s;
      const double share = done_floats / static_cast<double>(total);
      for (const auto& node : nodes)
        ready = std::max(ready, start_s + node.compute_s * ((1.0 - bf) + bf * share));
    }
    const double begin = std::max(ready, previous_end);
    previous_end = begin + allreduce_s(settings.allreduce, n, Cluster::bytes(numel),
                                       settings.network);
  }
  return std::max(previous_end, start_s + slowest);
}

double book_synchronous_step(Cluster& cluster, double start_s, double end_s,
                             const std::vector<StepTime>& nodes) {
  double slowest = 0.0;
  for (const auto& t : nodes) slowest = std::max(slowest, t.total());
  const double exposed = end_s - start_s - slowest;
  for (std::size_t node = 0; node < nodes.size(); ++node) {
    auto& record = cluster.times(static_cast<int>(node));
    record.compute_s += nodes[node].total();
    record.wait_s += slowest - nodes[node].total();
    record.comm_s += exposed;
  }
  return exposed;
}

SimAllReduce::SimAllReduce(Cluster& cluster)
    : cluster_(cluster), nodes_(cluster.settings().nodes) {}

void SimAllReduce::start() {
  if (cluster_.real()) {
    params_ = cluster_.source().initial_params();
    grad_sum_.assign(params_.size(), 0.0f);
    scratch_.assign(params_.size(), 0.0f);
    buffers_.assign(static_cast<std::size_t>(nodes_), cluster_.source().initial_buffers());
  }
  cluster_.events().at(0.0, [this] { step(); });
}

void SimAllReduce::step() {
  const double start = cluster_.now();
  std::vector<StepTime> times;
  for (int node = 0; node < nodes_; ++node) times.push_back(cluster_.compute().step(node, step_));
  if (cluster_.real()) {
    std::fill(grad_sum_.begin(), grad_sum_.end(), 0.0f);
    for (int node = 0; node < nodes_; ++node) {
      cluster_.gradient(node, step_, params_, buffers_[static_cast<std::size_t>(node)], scratch_);
      for (std::size_t i = 0; i < grad_sum_.size(); ++i) grad_sum_[i] += scratch_[i];
    }
    math::scale(grad_sum_, 1.0f / static_cast<float>(nodes_));
    math::sgd_step(params_, grad_sum_, momentum_, cluster_.hyper(), cluster_.lr(step_));
  }
  const double end = allreduce_step_end(cluster_.settings(), start, times);
  exposed_comm_s_ += book_synchronous_step(cluster_, start, end, times);
  ++step_;
  cluster_.events().at(end, [this] {
    for (int node = 0; node < nodes_; ++node) cluster_.step_done(node);
    const auto& settings = cluster_.settings();
    if (cluster_.evaluation_due(step_)) cluster_.evaluation_point();
    if (step_ < settings.total_steps) step();
  });
}

void SimAllReduce::average_buffers() {
  if (buffers_.empty() || buffers_.front().empty() || nodes_ == 1) return;
  std::vector<float> mean(buffers_.front().size(), 0.0f);
  for (const auto& node : buffers_)
    for (std::size_t i = 0; i < mean.size(); ++i) mean[i] += node[i];
  math::scale(mean, 1.0f / static_cast<float>(nodes_));
  for (auto& node : buffers_) node = mean;
}

EvalTarget SimAllReduce::evaluation_target() {
  average_buffers();
  EvalTarget target;
  target.params = params_;
  if (!buffers_.empty()) target.buffers = buffers_.front();
  return target;
}

nlohmann::json SimAllReduce::summary() const {
  return {{"allreduce_exposed_s", exposed_comm_s_},
          {"allreduce_algorithm", allreduce_algorithm_name(cluster_.settings().allreduce)}};
}

}  // namespace distsgd::sim
