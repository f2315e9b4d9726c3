#pragma once
// The algorithm interface: what a method of distributed SGD does at the hooks of
// the trainer's step. The trainer loop is the same for every method:
//
//   worker: start -> per step: [backward: bucket_ready for each gradient bucket]
//                    -> before_step -> optimizer step -> after_step
//                 -> every so often: prepare_evaluation -> finish -> summary
//   server: start -> serve -> finish -> summary
//
// A method differs only in what it does at these hooks, and in the rank's role.
// Everything here is flat float vectors (see core/flat_parameters.hpp), so no
// method needs LibTorch or MPI types in its interface.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

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

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual std::string name() const = 0;
  virtual Role role() const { return Role::worker; }
  // Whether the trainer should call bucket_ready() from the backward pass.
  virtual bool uses_gradient_buckets() const { return false; }
  // True when before_step itself writes the updated parameters (ASGD: the
  // server applies the gradient), so the trainer takes no optimizer step.
  virtual bool replaces_optimizer_step() const { return false; }
  // True when every worker takes part in every evaluation during training (a
  // collective). Asynchronous methods return false: workers may be at
  // different steps, so worker 0 evaluates alone until the end of training,
  // when all workers evaluate together.
  virtual bool synchronous_evaluation() const { return true; }
  // Whether the trainer's checkpoints capture this method's whole state.
  virtual bool supports_checkpoints() const { return false; }

  // Once, before the first step (and after a checkpoint was restored).
  virtual void start(ReplicaView replica) = 0;
  // From inside the backward pass; buckets arrive in index order.
  virtual void bucket_ready(const GradBucket& bucket) {}
  // The gradients in replica.grads must be the ones to apply when this returns.
  virtual void before_step(ReplicaView replica, const StepInfo& step) {}
  virtual void after_step(ReplicaView replica, const StepInfo& step) {}
  // Called before an evaluation: on every worker when synchronous_evaluation()
  // or after finish(), else on worker 0 alone. Writes the parameters and buffers to evaluate into
  // `out` and returns true, or returns false to evaluate the replica itself.
  virtual bool prepare_evaluation(ReplicaView replica, ReplicaView out) { return false; }
  // Before a checkpoint is taken (every rank, same point).
  virtual void before_checkpoint(ReplicaView replica) {}
  // A server rank's whole work between start and finish: answer workers until
  // every one of them has finished.
  virtual void serve(ReplicaView replica) {}
  // Once, after the last step (workers) or serve (servers); every rank calls it.
  virtual void finish(ReplicaView replica) {}
  // Figures to add to the metrics record of the evaluation just prepared.
  virtual nlohmann::json evaluation_figures() const { return nlohmann::json::object(); }
  // Method-specific figures for summary.json. Called on every rank of the job at
  // the same point, after finish (it may use collectives); rank 0's is kept.
  virtual nlohmann::json summary() { return nlohmann::json::object(); }
};

}  // namespace distsgd
