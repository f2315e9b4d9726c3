#pragma once
// The end of a run without a barrier that could hang: members (workers of a
// parameter server, nodes of a gossip job at rank 0) say when they have
// finished training and keep asking until told that every member has. A
// waiting member is answered at least every heartbeat with the number still
// training (so its own deadline never passes while others train) and with 0
// once none is; a member answered 0 is released and sends nothing more.
// Pure bookkeeping: time comes from the caller.
#include <cstdint>
#include <vector>

namespace distsgd {

class EndOfRun {
 public:
  EndOfRun(int members, double heartbeat_s);

  // `member` says it has finished (the first time) or asks again.
  void finished(int member, double now_s);
  // `member` is gone (lost): it counts as finished and released.
  void drop(int member);
  // Liveness (gossip's --survive-worker-loss: rank 0 hears a heartbeat from
  // every node): `member` was heard from at `now_s`. Every member counts as
  // heard at construction time 0 unless heard() says otherwise, so call it
  // for every member at the start.
  void heard(int member, double now_s);
  // The members still training that have not been heard from for longer than
  // `silent_after_s`: each is dropped (as drop()) and returned. A member that
  // has finished is never dropped: it is no longer expected to speak.
  std::vector<int> drop_silent(double now_s, double silent_after_s);

  struct Answer {
    int member = 0;
    int64_t training = 0;  // members still training; 0 releases the member
  };
  // The answers due at `now_s`.
  std::vector<Answer> answers(double now_s);

  int training() const;
  bool done(int member) const { return members_[index(member)].done; }
  bool waiting(int member) const { return members_[index(member)].waiting; }
  bool released(int member) const { return members_[index(member)].released; }
  int released_count() const;
  bool all_released() const { return released_count() == static_cast<int>(members_.size()); }

 private:
  struct Member {
    bool done = false, waiting = false, released = false;
    double waiting_since = 0.0;
    double last_heard = 0.0;
  };
  std::size_t index(int member) const { return static_cast<std::size_t>(member); }
  std::vector<Member> members_;
  double heartbeat_s_;
};

}  // namespace distsgd
