#pragma once
// The timeline recorder (--timeline): spans of time on this process's threads,
// kept in memory until the run ends and written as a Chrome trace
// (metrics/timeline_trace.hpp; train/timeline_session.hpp gathers the ranks).
//
// Contract:
//  - Off (the default, and after stop()): a Span costs one relaxed atomic load;
//    it reads no clock, allocates nothing and records nothing.
//  - On (start(cap)): each thread appends to a buffer of its own (registered on
//    its first event; a mutex per buffer, taken only by that thread while
//    recording, so uncontended), so spans of a thread nest as its scopes do.
//    Operations that overlap the thread that started them (an all-reduce in
//    flight during backward) go on a lane of their own (record_on_lane).
//  - At most `cap` events per process: past it, events are counted as dropped,
//    not stored (collect() reports the count).
//  - Times are steady-clock nanoseconds (now_ns()); names, categories and
//    argument names must be string literals (stored as pointers).
//  - collect() may run while other threads record: it copies under each
//    buffer's lock.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace distsgd::timeline {

struct Event {
  const char* name = "";
  const char* category = "";
  int64_t start_ns = 0;
  int64_t duration_ns = 0;
  const char* arg_name = nullptr;  // nullptr: no argument
  int64_t arg = 0;
  char detail[48] = {};  // an optional label ("all-reduce of gradient bucket 2"), cut to fit
};

// One thread's (or lane's) events, in the order recorded.
struct Track {
  int tid = 0;  // 1, 2, ... in order of first use; lanes from 1000
  std::string name;
  std::vector<Event> events;
};

struct Snapshot {
  std::vector<Track> tracks;
  int64_t recorded = 0;
  int64_t dropped = 0;  // events past the cap
  int64_t cap = 0;
};

namespace detail {
extern std::atomic<bool> enabled;
}  // namespace detail

inline bool enabled() noexcept { return detail::enabled.load(std::memory_order_relaxed); }

// Clears every buffer and starts recording, at most `cap` events.
void start(std::size_t cap);
// Stops recording; what was recorded stays for collect().
void stop();
Snapshot collect();

// The steady clock, in nanoseconds since its epoch.
int64_t now_ns() noexcept;

// Names the calling thread in the trace ("training", "gossip service");
// without it a thread is "thread N". Kept across start() calls.
void name_this_thread(std::string name);

// A complete event on the calling thread's track (when enabled).
void record(const char* name, const char* category, int64_t start_ns, int64_t end_ns,
            const char* arg_name = nullptr, int64_t arg = 0, std::string_view detail = {});
// The same on a lane of its own named "<lane> <index>" ("all-reduce bucket 0"),
// for operations that overlap the calling thread's spans and one another.
void record_on_lane(const char* lane, int64_t index, const char* name, const char* category,
                    int64_t start_ns, int64_t end_ns, std::string_view detail = {});

// A scope recorded as one complete event on the calling thread.
class Span {
 public:
  Span(const char* name, const char* category) noexcept {
    if (enabled()) begin(name, category);
  }
  Span(const char* name, const char* category, const char* arg_name, int64_t arg) noexcept {
    if (enabled()) {
      begin(name, category);
      arg_name_ = arg_name;
      arg_ = arg;
    }
  }
  ~Span() {
    if (name_) record(name_, category_, start_ns_, now_ns(), arg_name_, arg_);
  }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

 private:
  void begin(const char* name, const char* category) noexcept {
    name_ = name;
    category_ = category;
    start_ns_ = now_ns();
  }
  const char* name_ = nullptr;  // nullptr: not recording
  const char* category_ = nullptr;
  const char* arg_name_ = nullptr;
  int64_t arg_ = 0;
  int64_t start_ns_ = 0;
};

// Spans that follow one another on the calling thread, one open at a time:
// begin() ends the previous one (the phases of a step).
class Phases {
 public:
  Phases() = default;
  ~Phases() { end(); }
  Phases(const Phases&) = delete;
  Phases& operator=(const Phases&) = delete;

  void begin(const char* name, const char* category) {
    end();
    if (!enabled()) return;
    name_ = name;
    category_ = category;
    start_ns_ = now_ns();
  }
  void end() {
    if (!name_) return;
    record(name_, category_, start_ns_, now_ns());
    name_ = nullptr;
  }

 private:
  const char* name_ = nullptr;  // nullptr: none open
  const char* category_ = nullptr;
  int64_t start_ns_ = 0;
};

}  // namespace distsgd::timeline
