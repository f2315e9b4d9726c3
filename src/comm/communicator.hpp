#pragma once
// The comm boundary: everything distsgd sends between ranks goes through here.
// Communicator and Request are value handles over a transport (transport.hpp:
// the Backend and PendingOperation interfaces and their contract): MPI
// (Environment::world(); the only code that includes <mpi.h>) or a group of
// threads in one process (in_process.hpp, for tests). Above this header
// nothing knows which.
//
// Every wait has a deadline (the communicator's timeout). A missed deadline
// throws CommTimeout naming the operation and the peer(s) waited for (for a
// collective: the ranks that have not joined it), never hangs; a long wait
// warns first (set_stall_warning). A transport error becomes CommFailure (MPI:
// carrying MPI_Error_string). Time this process spends stopped (SIGSTOP) does
// not count against its own deadlines.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace distsgd::comm {

enum class DType { f32, f64, i64, u8 };
enum class ReduceOp { sum, max, min };

std::size_t dtype_size(DType type);

class CommFailure : public RuntimeFailure {
 public:
  explicit CommFailure(const std::string& what) : RuntimeFailure(what) {}
};

class CommTimeout : public CommFailure {
 public:
  explicit CommTimeout(const std::string& what) : CommFailure(what) {}
};

// A pending non-blocking operation. test() drives it forward (MPI progresses
// only inside MPI calls); wait() polls it until done or until the deadline.
// Empty when default-constructed or moved from.
class Request {
 public:
  Request();
  Request(Request&&) noexcept;
  Request& operator=(Request&&) noexcept;
  ~Request();

  bool valid() const { return impl_ != nullptr; }
  bool test();
  void wait();
  // Withdraws a pending receive (at shutdown). Returns false when a message had
  // already arrived into it (or it was complete or empty), so that the caller
  // still handles that message; true when it was withdrawn.
  bool cancel();
  // Lets go of a pending send whose receiver is gone (MPI_Request_free): the
  // request is never waited on again. Not for collectives (CommFailure).
  void release();
  // Gives up a pending receive from a rank that is lost (see transport.hpp):
  // a cancel that cannot hang on a message the lost rank had begun to send.
  // Keep the buffer allocated.
  void abandon();
  // Seconds between start and completion as observed by test()/wait().
  double elapsed_s() const;
  // The same two moments (steady clock; while pending the end is now), for
  // the timeline's record of an operation in flight.
  std::chrono::steady_clock::time_point started_at() const;
  std::chrono::steady_clock::time_point finished_at() const;

  struct Impl;
  explicit Request(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

class Communicator {
 public:
  Communicator(Communicator&&) noexcept;
  Communicator& operator=(Communicator&&) noexcept;
  ~Communicator();

  int rank() const;
  int size() const;
  // The deadline of every wait on this communicator.
  void set_timeout(std::chrono::duration<double> timeout);
  // A wait that lasts this long prints a warning (and again at every multiple):
  // for a collective, which ranks are in it and which have not joined; for a
  // message, the peer. 0: never.
  void set_stall_warning(std::chrono::duration<double> after);
  double timeout_s() const;

  // In-place reduction of `count` elements over all ranks. `what` names the
  // operation in errors ("gradient bucket 2").
  Request iallreduce(void* data, std::size_t count, DType type, ReduceOp op,
                     const std::string& what);
  void allreduce(void* data, std::size_t count, DType type, ReduceOp op, const std::string& what);
  void broadcast(void* data, std::size_t bytes, int root, const std::string& what);
  void barrier(const std::string& what);
  // A barrier to test while doing other work (serving peers until all are done).
  Request ibarrier(const std::string& what);
  // Gathers `bytes` from every rank into `out` (size() * bytes), in rank order.
  void allgather(const void* in, void* out, std::size_t bytes, const std::string& what);

  // Tagged point-to-point messages of raw bytes. `what` names the message in
  // errors ("reply of server rank 2 to step 40"); empty: a generic name. A
  // receive buffer may be larger than the message.
  Request isend(const void* data, std::size_t bytes, int dest, int tag,
                const std::string& what = "");
  Request irecv(void* data, std::size_t bytes, int source, int tag, const std::string& what = "");
  // A send that completes only once the receiver has started to receive it, so
  // a completed issend means the message is no longer in flight.
  Request issend(const void* data, std::size_t bytes, int dest, int tag,
                 const std::string& what = "");
  void send(const void* data, std::size_t bytes, int dest, int tag);
  void recv(void* data, std::size_t bytes, int source, int tag);

  // A new communicator of the ranks that pass the same `color`, ordered by
  // `key` (collective over this communicator).
  Communicator split(int color, int key, const std::string& what) const;
  // A new communicator of `ranks` only (sorted, this rank among them), in that
  // order: collective over those ranks alone, so the others may be gone (a
  // lost worker). Every rank in `ranks` must pass the same list.
  Communicator subset(const std::vector<int>& ranks, const std::string& what) const;

  struct Impl;
  explicit Communicator(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// The MPI library for the life of the process: MPI_Init_thread with
// MPI_THREAD_MULTIPLE (checked: asynchronous methods talk from a second thread)
// and MPI_Finalize on destruction.
class Environment {
 public:
  Environment(int* argc, char*** argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  Communicator world() const;
  // Ends every rank of the job with `code` (used after a fatal error, when
  // peers may be blocked waiting for this rank).
  [[noreturn]] static void abort(int code);
  // Ends this process with `code` without MPI_Finalize: after a rank was lost
  // (mpirun --enable-recovery), Open MPI 4.1 can wait forever in MPI_Finalize
  // for a message to that rank (measured), so survivors leave without it.
  [[noreturn]] static void exit_without_finalize(int code);
  static std::string library_version();
  static bool initialized();
};

}  // namespace distsgd::comm
