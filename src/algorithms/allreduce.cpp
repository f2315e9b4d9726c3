#include "algorithms/allreduce.hpp"

#include <chrono>

#include "algorithms/initial_state.hpp"
#include "core/timeline.hpp"
#include "methods/update_math.hpp"

namespace distsgd {

MethodTraits AllReduceSgd::traits() const {
  MethodTraits traits;
  traits.name = "allreduce";
  traits.gradient_buckets = true;
  traits.stop = MethodTraits::StopAgreement::every_step;
  traits.checkpoints = MethodTraits::Checkpoints::whole_file;
  return traits;
}

void AllReduceSgd::start(ReplicaView replica) { share_initial_state(comm_, replica); }

void AllReduceSgd::bucket_ready(const GradBucket& bucket) {
  pending_.push_back(comm_.iallreduce(bucket.grads.data(), bucket.grads.size(), comm::DType::f32,
                                      comm::ReduceOp::sum,
                                      "gradient bucket " + std::to_string(bucket.index)));
  pending_buckets_.push_back(bucket);
  // Open MPI progresses non-blocking collectives only inside MPI calls: poke
  // the earlier buckets so that they move while backward computes the rest.
  for (auto& request : pending_) request.test();
}

void AllReduceSgd::before_step(ReplicaView replica, const StepInfo&) {
  const auto begin = std::chrono::steady_clock::now();
  {
    timeline::Span span("all-reduce wait", "comm");
    for (auto& request : pending_) request.wait();
  }
  exposed_comm_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  for (auto& request : pending_) total_comm_s_ += request.elapsed_s();
  if (timeline::enabled()) record_buckets();
  const float inverse = 1.0f / static_cast<float>(comm_.size());
  for (auto& bucket : pending_buckets_) math::scale(bucket.grads, inverse);
  pending_.clear();
  pending_buckets_.clear();
  ++steps_;
}

// Each bucket's all-reduce from its launch (inside backward) to its completion
// as seen here, on a lane of its own: they overlap backward and one another.
void AllReduceSgd::record_buckets() const {
  using std::chrono::nanoseconds;
  auto ns = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<nanoseconds>(t.time_since_epoch()).count();
  };
  for (std::size_t i = 0; i < pending_.size(); ++i)
    timeline::record_on_lane("all-reduce bucket", pending_buckets_[i].index, "allreduce bucket",
                             "comm", ns(pending_[i].started_at()), ns(pending_[i].finished_at()));
}

void AllReduceSgd::average_buffers(ReplicaView replica) {
  if (replica.buffers.empty() || comm_.size() == 1) return;
  comm_.allreduce(replica.buffers.data(), replica.buffers.size(), comm::DType::f32,
                  comm::ReduceOp::sum, "batch-norm statistics");
  math::scale(replica.buffers, 1.0f / static_cast<float>(comm_.size()));
}

// Parameters are identical everywhere; batch-norm statistics are not (each rank
// saw its own batches), so they are averaged, and replicas are whole again.
EvaluationTarget AllReduceSgd::prepare_evaluation(ReplicaView replica, ReplicaView) {
  average_buffers(replica);
  return {};
}

std::optional<std::vector<std::optional<CheckpointDigest>>> AllReduceSgd::prepare(
    ReplicaView replica, int64_t, int64_t) {
  average_buffers(replica);
  return std::vector<std::optional<CheckpointDigest>>{};
}

MethodEnd AllReduceSgd::finish(ReplicaView replica) {
  average_buffers(replica);
  return {};
}

nlohmann::json AllReduceSgd::summary() {
  return {{"allreduce_exposed_s", exposed_comm_s_}, {"allreduce_total_s", total_comm_s_}};
}

}  // namespace distsgd
