#pragma once
// Synchronous all-reduce SGD (as Horovod and PyTorch DDP): every step, the
// gradients are averaged over all ranks before the optimizer step, so every
// replica takes the same step and replicas stay bitwise identical.
//
// Gradient buckets are reduced with non-blocking all-reduce as soon as the
// backward pass has finished them, so communication overlaps the rest of the
// backward pass; before_step waits for them all (this class is the MPI
// driver; the rule, sum then scale by 1/N, is math::scale on each bucket).
#include <vector>

#include "algorithms/algorithm.hpp"
#include "comm/communicator.hpp"

namespace distsgd {

class AllReduceSgd : public Algorithm, private MethodCheckpoints {
 public:
  explicit AllReduceSgd(comm::Communicator& comm) : comm_(comm) {}

  MethodTraits traits() const override;
  void start(ReplicaView replica) override;
  void bucket_ready(const GradBucket& bucket) override;
  void before_step(ReplicaView replica, const StepInfo& step) override;
  EvaluationTarget prepare_evaluation(ReplicaView replica, ReplicaView out) override;
  MethodEnd finish(ReplicaView replica) override;
  nlohmann::json summary() override;
  MethodCheckpoints* checkpoints() override { return this; }

  // Seconds spent blocked in before_step waiting for all-reduce (the part of
  // communication not hidden behind the backward pass), and seconds from
  // launching each bucket to its completion, both summed over steps.
  double exposed_comm_s() const { return exposed_comm_s_; }
  double total_comm_s() const { return total_comm_s_; }

 private:
  // Checkpoints are one file: the replicas are made whole first.
  std::optional<std::vector<std::optional<CheckpointDigest>>> prepare(ReplicaView replica,
                                                                      int64_t, int64_t) override;
  void average_buffers(ReplicaView replica);
  void record_buckets() const;  // --timeline

  comm::Communicator& comm_;
  std::vector<comm::Request> pending_;
  std::vector<GradBucket> pending_buckets_;
  double exposed_comm_s_ = 0.0;
  double total_comm_s_ = 0.0;
  int64_t steps_ = 0;
};

}  // namespace distsgd
