#pragma once
// The algorithm interface: what a method of distributed SGD does at the hooks
// of the trainer's step, on a worker rank. The trainer loop is the same for
// every method:
//
//   start -> per step: begin_step -> [backward: bucket_ready for each gradient bucket]
//         -> before_step -> optimizer step (unless traits().applies_update)
//         -> after_step
//         -> every so often: prepare_evaluation; checkpoint() hooks
//   -> finish -> summary
//
// Server ranks run a ServerMethod instead (server_method.hpp). The rules of
// each method live in src/methods/ (no MPI, no threads, no clock); the classes
// here are their MPI drivers: they send, receive and wait. Everything is flat
// float vectors (models/flat_parameters.hpp), so no method needs LibTorch.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/checkpoint_record.hpp"

namespace distsgd {

enum class Role { worker, server };

// The replica a worker trains: views of the flat buffers.
struct ReplicaView {
  std::span<float> params;
  std::span<float> grads;
  std::span<float> buffers;   // batch-norm running statistics (may be empty)
  std::span<float> momentum;  // the optimizer's momentum buffer (empty before the first step)
};

// A contiguous range of the flat gradient buffer whose gradients are final for
// this step. Buckets are numbered in the order they become ready.
struct GradBucket {
  int index = 0;
  int64_t offset = 0;
  std::span<float> grads;
};

struct StepInfo {
  int64_t step = 0;  // global step of this worker, counted from 0
  int64_t epoch = 0;
  double lr = 0.0;
};

// What the trainer needs to know of a method, each field answering one question.
struct MethodTraits {
  std::string name;
  // Hand gradient buckets to bucket_ready() from inside the backward pass.
  bool gradient_buckets = false;
  // before_step itself writes the updated parameters (ASGD: the server
  // applies the gradient): the trainer takes no optimizer step.
  bool applies_update = false;
  // Who evaluates during training. every_worker: a collective of all workers
  // at every evaluation. worker0: worker 0 alone (workers may be at different
  // steps); at the end, after finish(), all workers evaluate together.
  enum class Evaluation { every_worker, worker0 } evaluation = Evaluation::every_worker;
  // How workers agree to stop on SIGTERM/SIGINT. every_step: workers take
  // every step together, so one small all-reduce a step decides. epoch_end:
  // workers meet at epoch ends (evaluations, checkpoints) and vote there.
  // on_own: a worker stops alone, as one leaving the job does.
  enum class StopAgreement { every_step, epoch_end, on_own } stop = StopAgreement::on_own;
  // Whether and how the trainer's checkpoints capture the method's state:
  // whole_file: rank 0 writes one file (replicas are identical); in_parts:
  // every rank writes its own part (checkpoint_state / restore_state).
  enum class Checkpoints { none, whole_file, in_parts } checkpoints = Checkpoints::none;
  // Workers apply each other's updates late (stale gradients, elastic moves):
  // asynchrony adds momentum of its own, so a NaN loss hints at a lower --lr
  // or --momentum.
  bool stale_updates = false;
};

// What an evaluation scores: the replica itself, or what prepare_evaluation
// wrote into `out`; plus the method's figures for the metrics record.
struct EvaluationTarget {
  bool uses_out = false;
  nlohmann::json figures = nlohmann::json::object();
};

// How a method's run ended: empty unless --survive-worker-loss dropped ranks.
struct MethodEnd {
  std::vector<int> lost_ranks;
};

// The checkpoint hooks of a method that has any (traits().checkpoints is not
// none); the same interface for workers and servers.
class MethodCheckpoints {
 public:
  virtual ~MethodCheckpoints() = default;
  // Brings the job to a point where a checkpoint can be taken, at the end of
  // `epoch` (every worker, at step `step`): whole_file: the replicas are made
  // whole (batch-norm statistics averaged); in_parts: nothing is in flight
  // (gossip settles; PS workers meet at the servers, which write their parts
  // meanwhile). Returns the digests of the parts other ranks wrote meanwhile
  // (servers), indexed by rank, or nullopt when a worker has stopped
  // (SIGTERM/SIGINT) so no checkpoint can be taken: the caller stops too.
  virtual std::optional<std::vector<std::optional<CheckpointDigest>>> prepare(
      ReplicaView replica, int64_t epoch, int64_t step) = 0;
  // This rank's method state for its part (in_parts), and its restoration
  // (after start, after the trainer restored the replica and momentum).
  virtual Checkpoint state(ReplicaView replica) { return {}; }
  virtual void restore(ReplicaView replica, const Checkpoint& state) {}
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual MethodTraits traits() const = 0;
  // Once, before the first step (and before a checkpoint is restored).
  virtual void start(ReplicaView replica) = 0;
  // Before the forward pass of every step (local-sgd decides here whether
  // this step's gradient buckets are exchanged).
  virtual void begin_step(const StepInfo& step) {}
  // From inside the backward pass; buckets arrive in index order.
  virtual void bucket_ready(const GradBucket& bucket) {}
  // The gradients in replica.grads must be the ones to apply when this returns.
  virtual void before_step(ReplicaView replica, const StepInfo& step) {}
  virtual void after_step(ReplicaView replica, const StepInfo& step) {}
  // Before an evaluation (on the workers traits().evaluation says): writes
  // the parameters and buffers to score into `out`, or leaves them and says
  // the replica itself is scored.
  virtual EvaluationTarget prepare_evaluation(ReplicaView replica, ReplicaView out) { return {}; }
  // Once, after the last step; every worker calls it. Returns the ranks
  // (numbered as at the start) that were lost and left behind: after it the
  // communicators the method was given hold the survivors only.
  virtual MethodEnd finish(ReplicaView replica) { return {}; }
  // Method-specific figures for summary.json. Called on every rank of the job at
  // the same point, after finish (it may use collectives); rank 0's is kept.
  virtual nlohmann::json summary() { return nlohmann::json::object(); }
  // The checkpoint hooks, or nullptr when traits().checkpoints is none.
  virtual MethodCheckpoints* checkpoints() { return nullptr; }
};

}  // namespace distsgd
