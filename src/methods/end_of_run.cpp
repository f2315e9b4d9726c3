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
}

void EndOfRun::drop(int member) {
  auto& m = members_[index(member)];
  m.done = m.released = true;
  m.waiting = false;
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
