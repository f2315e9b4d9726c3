#include "methods/end_of_run.hpp"

#include <algorithm>

namespace distsgd {

EndOfRun::EndOfRun(int members, double heartbeat_s)
    : members_(static_cast<std::size_t>(members)), heartbeat_s_(heartbeat_s) {}

void EndOfRun::finished(int member, double now_s) {
  auto& m = members_[index(member)];
  m.done = true;
  m.waiting = true;
  m.waiting_since = now_s;
  m.last_heard = std::max(m.last_heard, now_s);
}

void EndOfRun::drop(int member) {
  auto& m = members_[index(member)];
  m.done = m.released = true;
  m.waiting = false;
}

void EndOfRun::heard(int member, double now_s) {
  auto& m = members_[index(member)];
  m.last_heard = std::max(m.last_heard, now_s);
}

std::vector<int> EndOfRun::drop_silent(double now_s, double silent_after_s) {
  std::vector<int> dropped;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].done || now_s - members_[i].last_heard <= silent_after_s) continue;
    drop(static_cast<int>(i));
    dropped.push_back(static_cast<int>(i));
  }
  return dropped;
}

int EndOfRun::training() const {
  return static_cast<int>(
      std::count_if(members_.begin(), members_.end(), [](const Member& m) { return !m.done; }));
}

int EndOfRun::released_count() const {
  return static_cast<int>(
      std::count_if(members_.begin(), members_.end(), [](const Member& m) { return m.released; }));
}

std::vector<EndOfRun::Answer> EndOfRun::answers(double now_s) {
  const int still = training();
  std::vector<Answer> due;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    auto& m = members_[i];
    if (!m.waiting || (still > 0 && now_s - m.waiting_since < heartbeat_s_)) continue;
    m.waiting = false;
    if (still == 0) m.released = true;
    due.push_back({static_cast<int>(i), still});
  }
  return due;
}

}  // namespace distsgd
