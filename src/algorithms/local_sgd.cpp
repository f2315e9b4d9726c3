#include "algorithms/local_sgd.hpp"

#include <algorithm>
#include <chrono>

#include "core/timeline.hpp"
#include "methods/update_math.hpp"

namespace distsgd {

LocalSgd::LocalSgd(const TrainConfig& config, comm::Communicator& comm)
    : comm_(comm),
      average_momentum_(config.average_momentum),
      schedule_(config.local_steps, config.post_local_after),
      synchronous_(comm) {}

MethodTraits LocalSgd::traits() const {
  MethodTraits traits;
  traits.name = "local-sgd";
  // The synchronous phase needs the buckets; the local phase ignores them.
  traits.gradient_buckets = true;
  // Every worker takes every step (the stop vote is overlapped with the next step).
  traits.stop = MethodTraits::StopAgreement::every_step;
  traits.checkpoints = MethodTraits::Checkpoints::whole_file;
  return traits;
}

void LocalSgd::start(ReplicaView replica) { synchronous_.start(replica); }

void LocalSgd::begin_step(const StepInfo& step) {
  synchronous_step_ = schedule_.synchronous(step.epoch);
}

void LocalSgd::bucket_ready(const GradBucket& bucket) {
  if (synchronous_step_) synchronous_.bucket_ready(bucket);
}

void LocalSgd::before_step(ReplicaView replica, const StepInfo& step) {
  if (!synchronous_step_) return;
  synchronous_.before_step(replica, step);
  ++synchronous_steps_;
}

void LocalSgd::after_step(ReplicaView replica, const StepInfo&) {
  if (synchronous_step_) return;
  ++local_steps_taken_;
  if (schedule_.local_step_done()) average_models(replica, average_momentum_);
}

void LocalSgd::average(std::span<float> values, const char* what) {
  if (values.empty() || comm_.size() == 1) return;
  comm_.allreduce(values.data(), values.size(), comm::DType::f32, comm::ReduceOp::sum, what);
  math::scale(values, 1.0f / static_cast<float>(comm_.size()));
}

void LocalSgd::average_models(ReplicaView replica, bool with_momentum) {
  const auto begin = std::chrono::steady_clock::now();
  timeline::Span span("model average", "local-sgd");
  average(replica.params, "the average of the models");
  // Before the first step there is no momentum buffer anywhere yet.
  if (with_momentum && !replica.momentum.empty())
    average(replica.momentum, "the average of the momentum buffers");
  average_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  ++averages_;
}

// The mean of the replicas, scored without changing them.
EvaluationTarget LocalSgd::prepare_evaluation(ReplicaView replica, ReplicaView out) {
  std::copy(replica.params.begin(), replica.params.end(), out.params.begin());
  average(out.params, "the models' average for an evaluation");
  if (!out.buffers.empty()) {
    std::copy(replica.buffers.begin(), replica.buffers.end(), out.buffers.begin());
    average(out.buffers, "batch-norm statistics average");
  }
  double distance = math::relative_squared_distance(replica.params, out.params);
  comm_.allreduce(&distance, 1, comm::DType::f64, comm::ReduceOp::sum, "consensus distance");
  consensus_.push_back(distance / comm_.size());
  return {true, {{"consensus_distance", consensus_.back()}}};
}

// One file holds the job's state: the replicas, momentum buffers and
// statistics are made whole, and the local steps count from here.
std::optional<std::vector<std::optional<CheckpointDigest>>> LocalSgd::prepare(ReplicaView replica,
                                                                              int64_t, int64_t) {
  average_models(replica, true);
  average(replica.buffers, "batch-norm statistics");
  schedule_.averaged();
  return std::vector<std::optional<CheckpointDigest>>{};
}

MethodEnd LocalSgd::finish(ReplicaView replica) {
  average_models(replica, average_momentum_);
  average(replica.buffers, "batch-norm statistics");
  return {};
}

nlohmann::json LocalSgd::summary() {
  auto figures = synchronous_.summary();
  figures["local_steps"] = schedule_.local_steps();
  figures["post_local_after_epochs"] = schedule_.post_local_after();
  figures["average_momentum"] = average_momentum_;
  figures["model_averages"] = averages_;
  figures["model_average_s"] = average_s_;
  figures["synchronous_steps"] = synchronous_steps_;
  figures["local_steps_taken"] = local_steps_taken_;
  figures["consensus_history"] = consensus_;
  return figures;
}

}  // namespace distsgd
