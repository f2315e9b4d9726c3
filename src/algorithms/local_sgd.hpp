#pragma once
// Local SGD and post-local SGD (Lin et al. 2020) over MPI: the MPI driver of
// hybrid::LocalSgdSchedule (methods/periodic_average.hpp).
//
//   synchronous phase (the first --post-local-after epochs): all-reduce SGD,
//     step for step (an AllReduceSgd does it: bucketed, overlapped);
//   local phase: each worker steps its own replica with its own gradient and
//     momentum; every --local-steps local steps one blocking all-reduce
//     replaces every replica (with --average-momentum, every momentum buffer
//     too) by the mean.
//
// Evaluations score the mean of the replicas (and of the batch-norm
// statistics) without changing them, and record how far the replicas have
// drifted apart (consensus distance, as gossip's). Checkpoints are one file:
// at a checkpoint the replicas, momentum buffers and statistics are made
// whole (averaged) and the count of local steps starts again, so a resumed run
// continues exactly as the first one does. The end of the run averages too.
#include "algorithms/allreduce.hpp"
#include "core/config.hpp"
#include "methods/periodic_average.hpp"

namespace distsgd {

class LocalSgd : public Algorithm, private MethodCheckpoints {
 public:
  LocalSgd(const TrainConfig& config, comm::Communicator& comm);

  MethodTraits traits() const override;
  void start(ReplicaView replica) override;
  void begin_step(const StepInfo& step) override;
  void bucket_ready(const GradBucket& bucket) override;
  void before_step(ReplicaView replica, const StepInfo& step) override;
  void after_step(ReplicaView replica, const StepInfo& step) override;
  EvaluationTarget prepare_evaluation(ReplicaView replica, ReplicaView out) override;
  MethodEnd finish(ReplicaView replica) override;
  nlohmann::json summary() override;
  MethodCheckpoints* checkpoints() override { return this; }

  int64_t averages() const { return averages_; }

 private:
  std::optional<std::vector<std::optional<CheckpointDigest>>> prepare(ReplicaView replica,
                                                                      int64_t, int64_t) override;
  // Replaces each vector by its mean over the workers (one all-reduce).
  void average(std::span<float> values, const char* what);
  void average_models(ReplicaView replica, bool with_momentum);

  comm::Communicator& comm_;
  bool average_momentum_;
  hybrid::LocalSgdSchedule schedule_;
  AllReduceSgd synchronous_;
  bool synchronous_step_ = false;
  int64_t averages_ = 0, synchronous_steps_ = 0, local_steps_taken_ = 0;
  double average_s_ = 0.0;
  std::vector<double> consensus_;
};

}  // namespace distsgd
