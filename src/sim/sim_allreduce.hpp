#pragma once
// Synchronous all-reduce SGD on the virtual cluster. Every step, each node
// computes its gradient at the (identical) parameters; bucket k of the
// gradient is ready on a node once that share of its backward pass is done
// (buckets in launch order, times in proportion to their floats), its
// all-reduce starts when every node has it and the previous bucket's is done
// (one collective at a time, as one MPI communicator runs them), and takes
// allreduce_s() of the chosen algorithm. The step ends when the last bucket is
// reduced and the slowest node (with its injected delay) is through.
//
// The rule is the engine's: sum the gradients, scale by 1/N, and every node
// takes the same SGD step, so one copy of the parameters and momentum stands
// for all nodes; each node keeps its own batch-norm statistics, averaged at
// every evaluation (as AllReduceSgd::prepare_evaluation does).
#include "sim/cluster.hpp"

namespace distsgd::sim {

// When each step ends, given when it started and each node's step time:
// the bucketed, overlapped all-reduce schedule described above.
double allreduce_step_end(const SimSettings& settings, double start_s,
                          const std::vector<StepTime>& nodes);
// Books a synchronous step from `start_s` to `end_s` on every node: its own
// compute, the wait for the slowest node, the communication exposed after
// that; returns the exposed communication (seconds).
double book_synchronous_step(Cluster& cluster, double start_s, double end_s,
                             const std::vector<StepTime>& nodes);

class SimAllReduce final : public SimMethod {
 public:
  explicit SimAllReduce(Cluster& cluster);
  void start() override;
  EvalTarget evaluation_target() override;
  nlohmann::json summary() const override;
  int workers() const override { return cluster_.settings().nodes; }

  std::span<const float> params() const { return params_; }

 private:
  void step();
  void average_buffers();

  Cluster& cluster_;
  int nodes_;
  std::vector<float> params_, grad_sum_, scratch_;
  math::MomentumState momentum_;
  std::vector<std::vector<float>> buffers_;  // per node
  int64_t step_ = 0;
  double exposed_comm_s_ = 0.0;
};

}  // namespace distsgd::sim
