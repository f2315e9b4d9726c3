#pragma once
// The rules of the hybrid methods that average every replica exactly, now and
// then, by all-reduce: when, and what. No MPI, no clock: the MPI drivers
// (algorithms/local_sgd.cpp, algorithms/gossip_global_average.cpp) and the
// simulator (sim/sim_local_sgd.cpp, sim/sim_gossip.cpp) call the same code.
//
//   local-sgd (Lin, Stich, Patel, Jaggi 2020, "Don't use large mini-batches,
//   use local SGD"): each worker takes local_steps SGD steps on its own
//   replica, then the replicas (and, with --average-momentum, the momentum
//   buffers) are replaced by their mean. Post-local SGD: the first
//   post_local_after epochs are plain synchronous all-reduce SGD (the
//   gradients are averaged every step), then local SGD.
//   gossip-pga (Chen, Yuan, Zhang, Pan, Xu, Yin 2021, "Accelerating gossip
//   SGD with periodic global averaging"): gossip every step, and every
//   global_every steps the exact mean of every node's model.
#include <cstdint>

namespace distsgd::hybrid {

class LocalSgdSchedule {
 public:
  LocalSgdSchedule(int local_steps, int64_t post_local_after_epochs);

  // Whether a step of `epoch` averages gradients (the synchronous phase).
  bool synchronous(int64_t epoch) const { return epoch < post_local_after_; }
  // After a local (not synchronous) step: whether the replicas are averaged
  // now, i.e. local_steps local steps have passed since the last average.
  bool local_step_done();
  // An average taken for another reason (a checkpoint makes the replicas
  // whole): the count of local steps starts again, so that a run resumed
  // from that checkpoint averages at the very steps the first run does.
  void averaged() { since_average_ = 0; }
  int64_t since_average() const { return since_average_; }
  int local_steps() const { return local_steps_; }
  int64_t post_local_after() const { return post_local_after_; }

 private:
  int local_steps_;
  int64_t post_local_after_;
  int64_t since_average_ = 0;
};

// gossip-pga: whether the exact global average follows step `step` (0-based
// and counted over the whole run, so the same on every node and after a
// resume).
inline bool global_average_due(int64_t step, int every) {
  return every > 0 && (step + 1) % every == 0;
}

}  // namespace distsgd::hybrid
