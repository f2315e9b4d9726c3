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
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

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

// What a method adds to its rank's part of a checkpoint in parts (see
// train/checkpoint.hpp): a JSON header and named float vectors.
struct MethodState {
  nlohmann::json meta = nlohmann::json::object();
  std::map<std::string, std::vector<float>> tensors;
};

// A part file as the manifest lists it: size and stored CRC-32 (bytes < 0: none).
struct PartDigest {
  int64_t bytes = -1;
  uint32_t crc = 0;
};

// Given to a server by the trainer: writes this rank's part of the checkpoint
// at the end of `epoch` (its state from checkpoint_state) and returns its digest.
using PartWriter = std::function<PartDigest(int64_t epoch)>;

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
  // True when every worker takes every step together (synchronous all-reduce):
  // the trainer may then agree on things (stopping on a signal) with a
  // collective per step. Methods that let workers run apart return false.
  virtual bool lockstep() const { return false; }
  // Whether the trainer's checkpoints capture this method's whole state.
  virtual bool supports_checkpoints() const { return false; }
  // Whether every rank writes its own part of a checkpoint (its state differs
  // from the others'), rather than rank 0 alone writing one file.
  virtual bool checkpoints_in_parts() const { return false; }

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
  // Checkpoints in parts, at the end of a checkpoint epoch (every worker, at
  // step `step`): bring the job to a quiescent point where nothing is in flight
  // (gossip: settle; parameter servers: every worker asks every server for its
  // part and waits until all workers have). Returns the digests of the parts
  // other ranks wrote meanwhile (servers), indexed by rank, or nullopt when a
  // worker has stopped (SIGTERM/SIGINT) so no checkpoint can be taken: the
  // caller stops training too.
  virtual std::optional<std::vector<PartDigest>> quiesce_for_checkpoint(ReplicaView replica,
                                                                        int64_t epoch,
                                                                        int64_t step) {
    return std::vector<PartDigest>{};
  }
  // Servers of checkpoints in parts: how to write their part when asked (given
  // before serve).
  virtual void set_part_writer(PartWriter writer) {}
  // This rank's method state for its part (at a quiescent point), and its
  // restoration (after start, after the trainer restored the replica and
  // momentum). Servers keep their state here; workers add theirs.
  virtual MethodState checkpoint_state(ReplicaView replica) { return {}; }
  virtual void restore_state(ReplicaView replica, const MethodState& state) {}
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
  // Ranks (numbered as at the start) that were lost and left behind; after
  // finish() the communicators the method was given hold the survivors only.
  virtual std::vector<int> lost_ranks() const { return {}; }
};

}  // namespace distsgd
