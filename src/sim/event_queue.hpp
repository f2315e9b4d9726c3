#pragma once
// The clock of the cluster simulator: a queue of actions at virtual times,
// run in order of time and, for equal times, in the order they were
// scheduled, so that a simulation is deterministic for its seed.
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

namespace distsgd::sim {

class EventQueue {
 public:
  using Action = std::function<void()>;

  double now() const { return now_; }
  // Runs `action` at virtual time `time` (not before now: an earlier time is
  // a bug of the caller and throws std::logic_error).
  void at(double time, Action action);
  void after(double delay_s, Action action) { at(now_ + delay_s, std::move(action)); }
  // Runs the earliest action; false when none is left.
  bool run_next();
  void run_all() {
    while (run_next()) {
    }
  }
  bool empty() const { return queue_.empty(); }
  int64_t processed() const { return processed_; }

 private:
  struct Event {
    double time;
    int64_t order;
    Action action;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.time != b.time ? a.time > b.time : a.order > b.order;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  double now_ = 0.0;
  int64_t scheduled_ = 0, processed_ = 0;
};

}  // namespace distsgd::sim
