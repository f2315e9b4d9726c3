// Request: the value handle over a PendingOperation, and the one waiting loop
// of every backend (deadlines and stall warnings live here, once).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>

#include "comm/handles.hpp"
#include "core/timeline.hpp"

namespace distsgd::comm {

Request::Request() = default;
Request::Request(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Request::Request(Request&&) noexcept = default;
Request& Request::operator=(Request&&) noexcept = default;
// A request still pending here is abandoned to its backend: a collective cannot
// be cancelled, and after a deadline error the process is about to end anyway.
Request::~Request() = default;

namespace {
void mark_done(Request::Impl& r) {
  r.done = true;
  r.finished = Clock::now();
}
}  // namespace

bool Request::test() {
  if (!impl_) throw CommFailure("test() on an empty request");
  if (!impl_->done && impl_->op->test()) mark_done(*impl_);
  return impl_->done;
}

void Request::wait() {
  if (!impl_) throw CommFailure("wait() on an empty request");
  if (impl_->done) return;
  // --timeline: the time this rank waits on others (what for, in the detail).
  const int64_t begin = timeline::enabled() ? timeline::now_ns() : 0;
  wait_until_done(*impl_->op, impl_->limits);
  mark_done(*impl_);
  if (begin != 0) timeline::record("wait", "comm", begin, timeline::now_ns(), nullptr, 0, impl_->op->what());
}

bool Request::cancel() {
  if (!impl_ || impl_->done) return false;
  const bool cancelled = impl_->op->cancel();
  mark_done(*impl_);
  return cancelled;
}

void Request::release() {
  if (!impl_ || impl_->done) return;
  impl_->op->release();
  mark_done(*impl_);
}

void Request::abandon() {
  if (!impl_ || impl_->done) return;
  impl_->op->abandon();
  mark_done(*impl_);
}

std::chrono::steady_clock::time_point Request::started_at() const {
  return impl_ ? impl_->started : Clock::now();
}

std::chrono::steady_clock::time_point Request::finished_at() const {
  return impl_ && impl_->done ? impl_->finished : Clock::now();
}

double Request::elapsed_s() const {
  if (!impl_) return 0.0;
  const auto end = impl_->done ? impl_->finished : Clock::now();
  return std::chrono::duration<double>(end - impl_->started).count();
}

namespace {
// Deadlines print as given ("10 s", "0.4 s"); time waited in whole seconds.
using Seconds = std::chrono::duration<double>;
// A gap this long between two checks means this process was stopped (SIGSTOP)
// or starved: it is not counted as waiting.
constexpr auto kLongestPoll = std::chrono::seconds(1);
}  // namespace

void wait_until_done(PendingOperation& op, const WaitLimits& limits) {
  // Poll rather than block (MPI's blocking calls have no timeout); pause() is
  // where a backend that can may block briefly.
  Clock::duration waited{};
  auto last = Clock::now();
  auto next_warning = limits.stall_warning;
  IdleBackoff idle;
  while (!op.test()) {
    if (!op.pause(idle)) continue;
    const auto now = Clock::now();
    waited += std::min<Clock::duration>(now - last, kLongestPoll);
    last = now;
    op.still_waiting(waited, limits);
    if (waited >= limits.timeout)
      throw CommTimeout(fmt::format("timed out after {:g} s waiting for {} ({})",
                                    Seconds(limits.timeout).count(), op.what(), op.diagnosis()));
    if (limits.stall_warning.count() > 0 && waited >= next_warning) {
      next_warning += limits.stall_warning;
      if (!op.speaks_for_stall()) continue;
      fmt::print(stderr,
                 "distsgd: stall: rank {} has waited {:.0f} s for {} ({}); deadline {:g} s\n",
                 op.rank(), Seconds(waited).count(), op.what(), op.diagnosis(),
                 Seconds(limits.timeout).count());
      std::fflush(stderr);
    }
  }
}

namespace detail {
std::string rank_list(const std::vector<int>& ranks) {
  if (ranks.empty()) return "none";
  if (ranks.size() == 1) return fmt::format("rank {}", ranks[0]);
  const bool contiguous = ranks.back() - ranks.front() + 1 == static_cast<int>(ranks.size());
  if (contiguous && ranks.size() > 2)
    return fmt::format("ranks {}-{}", ranks.front(), ranks.back());
  return fmt::format("ranks {}", fmt::join(ranks, ","));
}
}  // namespace detail

}  // namespace distsgd::comm
