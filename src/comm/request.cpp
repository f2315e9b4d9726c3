// Request: an MPI request polled with MPI_Test under a deadline.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "comm/mpi_check.hpp"
#include "comm/request_impl.hpp"
#include "core/idle_backoff.hpp"

namespace distsgd::comm {

Request::Request() = default;
Request::Request(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Request::Request(Request&&) noexcept = default;
Request& Request::operator=(Request&&) noexcept = default;
// A request still pending here is abandoned: a collective cannot be cancelled,
// and after a deadline error the process is about to end anyway.
Request::~Request() = default;

bool Request::test() {
  if (!impl_) throw CommFailure("test() on an empty request");
  if (impl_->done) return true;
  int flag = 0;
  detail::check(MPI_Test(&impl_->request, &flag, MPI_STATUS_IGNORE), impl_->what);
  if (flag) {
    impl_->done = true;
    impl_->finished = Clock::now();
  }
  return impl_->done;
}

namespace {
using Seconds = std::chrono::duration<double>;
// A gap this long between two polls means this process was stopped (SIGSTOP)
// or starved: it is not counted as waiting, so that a rank resumed after a stop
// does not hit its own deadline at once.
constexpr auto kLongestPoll = std::chrono::seconds(1);
// A collective waited on this long is announced to the peers (stall notices).
constexpr auto kAnnounceAfter = std::chrono::seconds(1);
constexpr auto kNoticePoll = std::chrono::milliseconds(100);

// A notice about a collective this far behind is from an earlier stall, not this one.
constexpr int64_t kRecentCollectives = 16;

// Who the wait is for: the peer of a message. For a collective, from the stall
// notices: the ranks waiting in it, those past it (they have done their part),
// and the missing ones: waiting in an earlier collective, or silent (stopped,
// lost, or still computing: the one to look at).
std::string diagnosis(const Request::Impl& r) {
  if (!r.stall) return fmt::format("rank {} waiting on {}", r.own_rank, r.peers);
  std::vector<int> in, past;
  std::vector<std::string> missing;
  for (int rank = 0; rank < r.stall->size(); ++rank) {
    const int64_t latest = r.stall->latest(rank);
    if (latest == r.seq)
      in.push_back(rank);
    else if (latest > r.seq)
      past.push_back(rank);
    else if (latest >= 0 && latest >= r.seq - kRecentCollectives)
      missing.push_back(fmt::format("rank {} (waits in collective #{})", rank, latest));
    else
      missing.push_back(fmt::format("rank {} (silent: stopped, lost or still computing)", rank));
  }
  return fmt::format(
      "rank {} waiting on {} (collective #{}); in it: {}{}; missing: {}", r.own_rank, r.peers,
      r.seq, detail::rank_list(in),
      past.empty() ? "" : "; done with it: " + detail::rank_list(past),
      missing.empty() ? std::string("none") : fmt::format("{}", fmt::join(missing, ", ")));
}

// One rank speaks for a stall: the lowest one waiting in this collective or
// (stuck behind) in a recent earlier one.
bool speaks_for_stall(const Request::Impl& r) {
  for (int rank = 0; rank < r.stall->rank(); ++rank) {
    const int64_t latest = r.stall->latest(rank);
    if (latest >= 0 && latest <= r.seq && latest >= r.seq - kRecentCollectives) return false;
  }
  return true;
}
}  // namespace

void Request::wait() {
  if (!impl_) throw CommFailure("wait() on an empty request");
  Impl& r = *impl_;
  // Poll rather than block: MPI's blocking calls have no timeout.
  Clock::duration waited{};
  auto last = Clock::now(), last_notice_poll = last;
  auto next_warning = r.stall_warning;
  const auto announce_after = r.stall_warning.count() > 0
                                  ? std::min<Clock::duration>(kAnnounceAfter, r.stall_warning / 2)
                                  : Clock::duration(kAnnounceAfter);
  bool announced = false;
  IdleBackoff idle;
  while (!test()) {
    if (!idle.pause()) continue;
    const auto now = Clock::now();
    waited += std::min<Clock::duration>(now - last, kLongestPoll);
    last = now;
    if (r.stall && !announced && waited >= announce_after) {
      r.stall->announce(r.seq);
      announced = true;
    }
    if (announced && now - last_notice_poll >= kNoticePoll) {
      r.stall->poll();
      last_notice_poll = now;
    }
    if (waited >= r.timeout)
      throw CommTimeout(fmt::format("timed out after {:.0f} s waiting for {} ({})",
                                    Seconds(r.timeout).count(), r.what, diagnosis(r)));
    if (r.stall_warning.count() > 0 && waited >= next_warning) {
      next_warning += r.stall_warning;
      // For a collective, one rank speaks for all those waiting.
      if (r.stall && !speaks_for_stall(r)) continue;
      fmt::print(
          stderr, "distsgd: stall: rank {} has waited {:.0f} s for {} ({}); deadline {:.0f} s\n",
          r.own_rank, Seconds(waited).count(), r.what, diagnosis(r), Seconds(r.timeout).count());
      std::fflush(stderr);
    }
  }
}

bool Request::cancel() {
  if (!impl_ || impl_->done) return false;
  MPI_Status status;
  detail::check(MPI_Cancel(&impl_->request), "cancelling " + impl_->what);
  detail::check(MPI_Wait(&impl_->request, &status), "cancelling " + impl_->what);
  impl_->done = true;
  impl_->finished = Clock::now();
  int cancelled = 0;
  MPI_Test_cancelled(&status, &cancelled);
  return cancelled != 0;
}

void Request::release() {
  if (!impl_ || impl_->done) return;
  if (impl_->stall) throw CommFailure("release() of a collective (" + impl_->what + ")");
  MPI_Request_free(&impl_->request);
  impl_->done = true;
  impl_->finished = Clock::now();
}

double Request::elapsed_s() const {
  if (!impl_) return 0.0;
  const auto end = impl_->done ? impl_->finished : Clock::now();
  return std::chrono::duration<double>(end - impl_->started).count();
}

}  // namespace distsgd::comm
