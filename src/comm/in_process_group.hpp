#pragma once
// The state that the ranks of one in-process group share, behind one mutex.
// Private to the in-process backend (in_process_backend.cpp).
//
// Every operation completes eagerly, under the mutex, in the thread of the
// rank whose call makes it possible: a send that finds its receive posted
// copies into it; the last rank to join a collective computes it and writes
// every rank's result. So no thread has to drive progress, and a waiting
// thread only sleeps on the condition variable until the state changes (no
// spinning: 16 ranks share 2 cores in the tests).
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "comm/transport.hpp"

namespace distsgd::comm::in_process {

// A sent message: its bytes are copied at the send, so the sender's buffer is
// free at once (a plain send completes at once; an issend once `matched`).
struct Message {
  int source = 0, tag = 0;
  std::vector<std::byte> bytes;
  bool matched = false;  // a receive has taken it
};

// A posted receive, filled by the send that matches it.
struct Receive {
  int source = 0, tag = 0;
  void* buffer = nullptr;
  std::size_t capacity = 0;
  bool done = false;
  std::string error;  // the message did not fit
};

enum class Kind { allreduce, broadcast, barrier, allgather };

// One rank's part of a collective. The input is copied at the join, so that
// a rank that abandons the collective (its wait timed out) leaves nothing
// behind that the last rank would read.
struct Part {
  Kind kind = Kind::barrier;
  std::string what;       // the operation, for errors
  std::string signature;  // kind and sizes: must be the same on every rank
  std::vector<std::byte> input;
  void* output = nullptr;  // nulled when the rank abandons the collective
  std::size_t count = 0;   // elements (all-reduce) or bytes
  DType type = DType::u8;
  ReduceOp op = ReduceOp::sum;
  int root = 0;
};

class Group;

struct Collective {
  std::vector<bool> joined;
  std::vector<Part> parts;
  int joins = 0, finished = 0;  // finished: ranks that saw it complete or abandoned it
  bool complete = false;
  std::string error;  // set at completion when the parts do not match
};

// A group being made from this one (split, subset): every member arrives,
// then each takes the new group.
struct Child {
  std::shared_ptr<Group> group;
  std::vector<int> members;  // in this group's ranks, in the new order
  std::vector<bool> arrived;
  int arrivals = 0, taken = 0;
};

class Group {
 public:
  explicit Group(int size);
  int size() const { return size_; }

  // The lock every *_locked member needs. The version changes whenever an
  // operation may have completed: a waiter that saw version v sleeps until it
  // is not v (or `most` has passed), so no wake-up is lost between its test
  // and its sleep.
  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mutex_); }
  uint64_t version_locked() const { return version_; }
  void wait_for_change(std::unique_lock<std::mutex>& lock, uint64_t seen, Clock::duration most);

  // Messages (ranks of this group; checked by the caller).
  std::shared_ptr<Message> send(int source, int dest, int tag, const void* data, std::size_t bytes);
  std::shared_ptr<Receive> post_receive(int dest, int source, int tag, void* buffer,
                                        std::size_t capacity);
  // Whether the message was withdrawn (false: a receive had taken it).
  bool withdraw_send_locked(int dest, const std::shared_ptr<Message>& message);
  // Whether the receive was withdrawn (false: a message had arrived into it).
  // Safe to call again.
  bool withdraw_receive_locked(int dest, const std::shared_ptr<Receive>& receive);

  // Collectives: rank `rank` joins its next one; returns its number.
  int64_t join(int rank, Part part);
  // Whether collective `seq` is complete; then `error` is its error (empty:
  // none) and the rank is done with it (call once it is true, never again).
  bool collective_done_locked(int64_t seq, std::string& error);
  // The rank stops waiting for `seq` (its request is gone before the
  // collective completed): its result is not written.
  void abandon_locked(int rank, int64_t seq);
  std::string collective_diagnosis_locked(int rank, int64_t seq) const;
  bool first_to_join_locked(int rank, int64_t seq) const;

  // How many subsets of `ranks` rank `rank` has asked for, this one included
  // (the same count on every member: subset is collective over them).
  int count_subset(int rank, const std::vector<int>& ranks);
  // New groups: `rank` arrives at the child `name` of `members` (this group's
  // ranks, in the new order); every member gets the same group.
  std::shared_ptr<Group> arrive(const std::string& name, const std::vector<int>& members, int rank);
  // Whether every member has arrived; then the rank has taken the child
  // (call once it is true, never again).
  bool all_arrived_locked(const std::string& name);
  std::string arrival_diagnosis_locked(const std::string& name, int rank) const;

 private:
  void changed_locked();
  void deliver_locked(Receive& receive, Message& message);
  void complete_locked(int64_t seq, Collective& c);

  const int size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t version_ = 0;

  struct Member {
    int64_t collectives = 0;                          // started so far
    std::map<std::vector<int>, int> subsets;          // made so far, per list of ranks
    std::deque<std::shared_ptr<Message>> unexpected;  // arrived, not yet received
    std::deque<std::shared_ptr<Receive>> posted;      // waiting for a message
  };
  std::vector<Member> members_;
  std::map<int64_t, Collective> collectives_;
  std::map<std::string, Child> children_;
};

}  // namespace distsgd::comm::in_process
