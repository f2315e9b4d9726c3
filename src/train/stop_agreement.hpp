#pragma once
// How the workers agree to stop on SIGTERM/SIGINT (MethodTraits::stop), so
// that no worker waits in a collective for one that has left:
//
//   every_step: workers take every step together, so one small all-reduce a
//     step decides; it is started after a step and read after the next, so
//     it never holds a step up. All stop after the same step.
//   epoch_end: workers meet only at epoch ends (evaluations, checkpoints). A
//     worker stopped by a signal waits at the next epoch end that the others
//     reach, and there every worker votes, so all stop together.
//   on_own: a worker stops alone, as one leaving the job does.
//
// After the method has finished, a job with checkpoints in parts agrees once
// more, servers included, whether anyone was stopped (agree_on_job_stop).
#include <cstdint>

#include "algorithms/algorithm.hpp"
#include "comm/communicator.hpp"

namespace distsgd {

// The epoch ends of a run, as the epoch-end vote needs them.
struct EpochEnds {
  int64_t steps_per_epoch = 1;
  int64_t last_step = 0;  // no epoch end after it is reached (steps to run, --stop-after-epoch)
  // A resumed run of checkpoints in parts: epoch ends at or before the
  // furthest worker's saved step are not reached by every worker.
  int64_t resumed_max_step = -1;
  // Whether workers meet at epoch ends at all (an evaluation or a checkpoint
  // is there): if not, a vote would only make every worker wait for the slowest.
  bool meet = true;
};

// The first epoch end at or after `step` that every worker reaches, or -1 if
// there is none before training ends.
int64_t next_shared_epoch_end(int64_t step, const EpochEnds& ends);

class StopAgreement {
 public:
  StopAgreement(MethodTraits::StopAgreement mode, comm::Communicator& workers)
      : mode_(mode), workers_(workers) {}

  // After each step: whether this worker stops now.
  bool after_step();
  // After the steps of an epoch, at `step` (epoch_end only; the others return).
  void at_epoch_end(int64_t step, const EpochEnds& ends);
  // Before leaving the loop: finishes the vote in flight (every worker started
  // one, so every worker finishes it).
  void settle();

  // The signal that stopped this worker, or 0.
  int stopped_by() const { return stopped_by_; }
  // The job agreed to stop after a signal elsewhere (agree_on_job_stop).
  void adopt(int signal) {
    if (!stopped_by_) stopped_by_ = signal;
  }

 private:
  MethodTraits::StopAgreement mode_;
  comm::Communicator& workers_;
  int stopped_by_ = 0;
  comm::Request vote_;  // every_step: the vote started after the last step
  int64_t vote_value_ = 0;
};

struct JobStop {
  int signal = 0;     // the signal that stopped a rank of the job, or 0
  int64_t step = 0;   // worker 0's step
};
// Collective over `world` (servers too), after the method's finish(): every
// rank's `own_signal` (a worker: what stopped it; a server: stop_signal()) and
// rank 0's `step`.
JobStop agree_on_job_stop(comm::Communicator& world, int own_signal, int64_t step);

}  // namespace distsgd
