#pragma once
// Synchronous all-reduce SGD (as Horovod and PyTorch DDP): every step, the
// gradients are averaged over all ranks before the optimizer step, so every
// replica takes the same step and replicas stay bitwise identical.
//
// Gradient buckets are reduced with non-blocking all-reduce as soon as the
// backward pass has finished them, so communication overlaps the rest of the
// backward pass; before_step waits for them all.
#include <vector>

#include "algorithms/algorithm.hpp"
#include "comm/communicator.hpp"

namespace distsgd {

class AllReduceSgd : public Algorithm {
 public:
  explicit AllReduceSgd(comm::Communicator& comm) : comm_(comm) {}

  std::string name() const override { return "allreduce"; }
  bool uses_gradient_buckets() const override { return true; }
  bool supports_checkpoints() const override { return true; }
  bool lockstep() const override { return true; }
  void start(ReplicaView replica) override;
  void bucket_ready(const GradBucket& bucket) override;
  void before_step(ReplicaView replica, const StepInfo& step) override;
  bool prepare_evaluation(ReplicaView replica, ReplicaView out) override;
  void before_checkpoint(ReplicaView replica) override { average_buffers(replica); }
  void finish(ReplicaView replica) override;
  nlohmann::json summary() override;

  // Seconds spent blocked in before_step waiting for all-reduce (the part of
  // communication not hidden behind the backward pass), and seconds from
  // launching each bucket to its completion, both summed over steps.
  double exposed_comm_s() const { return exposed_comm_s_; }
  double total_comm_s() const { return total_comm_s_; }

 private:
  void average_buffers(ReplicaView replica);

  comm::Communicator& comm_;
  std::vector<comm::Request> pending_;
  std::vector<GradBucket> pending_buckets_;
  double exposed_comm_s_ = 0.0;
  double total_comm_s_ = 0.0;
  int64_t steps_ = 0;
};

}  // namespace distsgd
