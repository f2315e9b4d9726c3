#pragma once
// Local SGD and post-local SGD on the virtual cluster: the rules of
// hybrid::LocalSgdSchedule (methods/periodic_average.hpp) in the engine's
// order (algorithms/local_sgd.cpp).
//   - a synchronous step (the first --post-local-after epochs) is
//     SimAllReduce's: the buckets' all-reduce overlapped with the backward
//     pass, every node steps with the mean gradient;
//   - a local step is each node's alone: it computes, steps its own replica
//     and goes on, without waiting for anyone;
//   - every --local-steps local steps the nodes meet for the average (a
//     blocking all-reduce of the parameters, and of the momentum with
//     --average-momentum): the first to arrive waits for the last, then all
//     spend allreduce_s() of those floats;
//   - evaluations are meetings (collectives in the engine) that score the
//     mean of the replicas without changing them; at a checkpoint epoch's end
//     the engine makes the replicas whole (models, momentum and statistics
//     averaged, the local count restarted), and so does this driver (at no
//     cost in training time: the engine counts a checkpoint's time apart).
#include <optional>

#include "methods/periodic_average.hpp"
#include "sim/cluster.hpp"

namespace distsgd::sim {

class SimLocalSgd final : public SimMethod {
 public:
  explicit SimLocalSgd(Cluster& cluster);
  void start() override;
  EvalTarget evaluation_target() override;
  nlohmann::json summary() const override;
  int workers() const override { return cluster_.settings().nodes; }

  std::span<const float> params(int node) const {
    return nodes_[static_cast<std::size_t>(node)].params;
  }

 private:
  enum class Meeting { synchronous_step, average, checkpoint, evaluation };
  struct Node {
    std::vector<float> params, grad, buffers;
    math::MomentumState momentum;
    std::optional<hybrid::LocalSgdSchedule> schedule;
    int64_t step = 0;
  };

  void next(int node);
  void local_step(int node);
  void after_step(int node);
  void arrive(int node, Meeting meeting);
  void synchronous_step();
  void average_models(bool momentum, bool buffers);
  template <typename Of>
  std::vector<float> mean_over_nodes(Of of) const;
  bool checkpoint_due(int64_t steps) const;
  int64_t epoch_of(int64_t step) const;

  Cluster& cluster_;
  std::vector<Node> nodes_;
  std::vector<int> waiting_;
  int64_t averages_ = 0, synchronous_steps_ = 0;
  double average_s_ = 0.0, exposed_comm_s_ = 0.0;
  std::vector<double> consensus_;
  std::vector<float> grad_sum_;
};

}  // namespace distsgd::sim
