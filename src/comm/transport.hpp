#pragma once
// The transport seam: what the methods need of the network, as two abstract
// interfaces behind the value handles of communicator.hpp. Modelled on c10d's
// ProcessGroup/Work and Gloo's transport pair: a Backend is one rank's view of
// a group of ranks and starts operations; a PendingOperation is one started
// non-blocking operation. Two implementations: MPI (mpi_backend.*, the only
// code that includes <mpi.h>) and an in-process group of threads
// (in_process.hpp), on which the cores' tests run 16 ranks in one process.
//
// The contract every backend keeps (callers rely on all of it):
//  - Deadlines: no backend blocks without bound. Starting an operation never
//    waits for a peer; completion is observed through test(), and the one
//    waiting loop (wait_until_done, below) ends every wait at the
//    communicator's timeout with CommTimeout naming the operation and, from
//    diagnosis(), the peer(s) waited for. The in-process backend's blocking
//    steps (split, subset) wait through that same loop, under the limits
//    given; MPI creates communicators with its own blocking calls.
//  - Failures are CommFailure (thrown by start, test or cancel), naming the
//    operation.
//  - Messages: tagged bytes from one source rank to one destination rank (no
//    wildcards). Two messages from one rank to another with the same tag are
//    received in the order they were sent. A receive buffer may be larger
//    than the message; a smaller one is a CommFailure. A plain send may
//    complete before it is received (the data has been copied or sent); a
//    synchronous send completes only once a receive has matched it.
//  - cancel() withdraws a pending receive (or an unmatched send) and returns
//    true; it returns false when a message had already arrived into the
//    receive, so that the caller still handles that message. Collectives
//    cannot be cancelled or released.
//  - release() lets go of a pending send whose receiver may be gone: it is
//    never waited on again, and the backend keeps what it needs to finish it.
//  - abandon() gives up a pending receive whose sender is lost: withdrawn if
//    it can be; a message from it that had begun to arrive (MPI matched it,
//    the rest never comes) is let go unfinished. It never blocks for long,
//    and the receive buffer must stay allocated until the backend is gone.
//  - Collectives must be started in the same order on every rank of the group
//    (every rank numbers them alike: the number names them in diagnoses).
//    Buffers belong to the backend from start until completion.
//  - A pending operation destroyed (its Request dropped, as after a deadline
//    error) is abandoned: the in-process backend withdraws it and never
//    touches its buffers again; MPI leaves the request to the library (the
//    process is about to end).
//  - Thread use: one rank's backend may be used from two threads at once
//    (MPI_THREAD_MULTIPLE: gossip answers peers from a communication thread),
//    each operation from one thread at a time.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.hpp"
#include "core/idle_backoff.hpp"

namespace distsgd::comm {

using Clock = std::chrono::steady_clock;

// What bounds a wait: the communicator's settings when the operation started.
struct WaitLimits {
  Clock::duration timeout = std::chrono::seconds(300);
  // Warn (and again at every multiple) after waiting this long; 0: never.
  Clock::duration stall_warning = std::chrono::seconds(60);
};

// One started non-blocking operation (c10d's Work). Owned by a Request.
class PendingOperation {
 public:
  virtual ~PendingOperation() = default;

  // Drives the operation forward (MPI progresses only inside MPI calls) and
  // says whether it is complete. Once true, stays true.
  virtual bool test() = 0;
  // Lets time pass after a test() that found the operation pending, without
  // taking a core from the threads that have work (the default polls with
  // IdleBackoff; a backend that can block on a condition does so, briefly).
  // True when it is the moment for the slower checks (clock, deadline).
  virtual bool pause(IdleBackoff& idle) { return idle.pause(); }
  // Called by the waiting loop at each slower check, with the time waited so
  // far: the moment for a backend's own stall diagnosis (MPI: notices).
  virtual void still_waiting(Clock::duration waited, const WaitLimits& limits) {}
  // See the contract above. Called only while the operation is pending.
  virtual bool cancel() = 0;
  virtual void release() = 0;
  virtual void abandon() { cancel(); }

  // The rank that waits, and the operation, for errors ("all-reduce of
  // gradient bucket 2").
  virtual int rank() const = 0;
  virtual const std::string& what() const = 0;
  // Who waits for whom, for errors and stall warnings: "rank 1 waiting on
  // rank 3"; for a collective, which ranks are in it and which are missing.
  virtual std::string diagnosis() const = 0;
  // Whether this rank prints the stall warning (for a collective, one rank
  // speaks for all those waiting in it).
  virtual bool speaks_for_stall() const { return true; }
};

// One rank's view of a group of ranks (c10d's ProcessGroup): what the
// Communicator handle forwards to. Every start returns a pending operation;
// `what` is the full name of the operation for errors.
class Backend {
 public:
  virtual ~Backend() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Collectives (in place; see the contract on order).
  virtual std::unique_ptr<PendingOperation> iallreduce(void* data, std::size_t count, DType type,
                                                       ReduceOp op, std::string what) = 0;
  virtual std::unique_ptr<PendingOperation> ibroadcast(void* data, std::size_t bytes, int root,
                                                       std::string what) = 0;
  virtual std::unique_ptr<PendingOperation> ibarrier(std::string what) = 0;
  // `out` has size() * bytes, filled in rank order.
  virtual std::unique_ptr<PendingOperation> iallgather(const void* in, void* out, std::size_t bytes,
                                                       std::string what) = 0;

  // Tagged messages; `synchronous`: an issend (complete once matched).
  virtual std::unique_ptr<PendingOperation> isend(const void* data, std::size_t bytes, int dest,
                                                  int tag, bool synchronous, std::string what) = 0;
  virtual std::unique_ptr<PendingOperation> irecv(void* data, std::size_t bytes, int source,
                                                  int tag, std::string what) = 0;

  // New groups, as Communicator::split and ::subset describe; blocking, each
  // wait bounded by `limits`.
  virtual std::unique_ptr<Backend> split(int color, int key, const std::string& what,
                                         const WaitLimits& limits) = 0;
  virtual std::unique_ptr<Backend> subset(const std::vector<int>& ranks, const std::string& what,
                                          const WaitLimits& limits) = 0;
};

// The one waiting loop: test() until done, pause() in between; stall warnings
// on stderr at every multiple of limits.stall_warning; CommTimeout once the
// time waited reaches limits.timeout. A gap of over a second between two
// checks (this process was stopped, SIGSTOP, or starved) does not count as
// waiting, so that a rank resumed after a stop does not hit its own deadline.
void wait_until_done(PendingOperation& op, const WaitLimits& limits);

// A Communicator over `backend`, with the deadlines `limits`.
Communicator make_communicator(std::unique_ptr<Backend> backend, const WaitLimits& limits = {});

namespace detail {
// "rank 2", "ranks 1,3", "ranks 0-3", "none".
std::string rank_list(const std::vector<int>& ranks);
}  // namespace detail

}  // namespace distsgd::comm
