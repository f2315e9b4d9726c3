// MpiOperation: one MPI request, polled with MPI_Test by the waiting loop; for
// a collective, the stall notices that say who has joined it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <vector>

#include "comm/mpi_backend.hpp"
#include "comm/mpi_check.hpp"
#include "core/idle_backoff.hpp"

namespace distsgd::comm {
namespace {
// A collective waited on this long is announced to the peers (stall notices).
constexpr auto kAnnounceAfter = std::chrono::seconds(1);
constexpr auto kNoticePoll = std::chrono::milliseconds(100);
// A notice about a collective this far behind is from an earlier stall, not this one.
constexpr int64_t kRecentCollectives = 16;
// How long a cancelled receive may take to finish: at shutdown its sender is
// alive and a message under way completes in far less; from a lost sender it
// never does, and is given up after a short wait.
constexpr auto kCancelLimit = std::chrono::seconds(30);
constexpr auto kAbandonLimit = std::chrono::milliseconds(500);
}  // namespace

MpiOperation::MpiOperation(std::string what, std::string peers, int own_rank,
                           std::shared_ptr<detail::StallChannel> stall, int64_t seq)
    : what_(std::move(what)),
      peers_(std::move(peers)),
      own_rank_(own_rank),
      stall_(std::move(stall)),
      seq_(seq) {}

MpiOperation::~MpiOperation() {
  // A pending operation abandoned (after a deadline error) may still be read
  // by MPI: its copy is left to the process's end rather than freed under it.
  if (request_ == MPI_REQUEST_NULL) delete[] copy_;
}

const void* MpiOperation::keep_copy(const void* data, std::size_t bytes) {
  delete[] copy_;
  copy_ = new std::byte[bytes];
  std::memcpy(copy_, data, bytes);
  return copy_;
}

bool MpiOperation::test() {
  if (request_ == MPI_REQUEST_NULL) return true;  // MPI_Test has nulled it: complete
  int flag = 0;
  detail::check(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE), what_);
  return flag != 0;
}

void MpiOperation::still_waiting(Clock::duration waited, const WaitLimits& limits) {
  if (!stall_) return;
  const auto announce_after =
      limits.stall_warning.count() > 0
          ? std::min<Clock::duration>(kAnnounceAfter, limits.stall_warning / 2)
          : Clock::duration(kAnnounceAfter);
  if (!announced_ && waited >= announce_after) {
    stall_->announce(seq_);
    announced_ = true;
  }
  const auto now = Clock::now();
  if (announced_ && now - last_notice_poll_ >= kNoticePoll) {
    stall_->poll();
    last_notice_poll_ = now;
  }
}

// A cancelled receive finishes at once unless MPI had already matched it to a
// message: then it finishes when the rest of that message has arrived, which
// never happens if the sender died mid-message (MPI_Wait would block for good).
std::optional<MPI_Status> MpiOperation::cancel_within(Clock::duration limit) {
  detail::check(MPI_Cancel(&request_), "cancelling " + what_);
  const auto until = Clock::now() + limit;
  IdleBackoff idle;
  for (;;) {
    int flag = 0;
    MPI_Status status;
    detail::check(MPI_Test(&request_, &flag, &status), "cancelling " + what_);
    if (flag) return status;
    if (Clock::now() >= until) return std::nullopt;
    idle.pause();
  }
}

bool MpiOperation::cancel() {
  const auto status = cancel_within(kCancelLimit);
  if (!status)
    throw CommTimeout(fmt::format("timed out after {} s cancelling {}: a message from {} had begun "
                                  "to arrive and has not finished",
                                  std::chrono::duration_cast<std::chrono::seconds>(kCancelLimit).count(),
                                  what_, peers_));
  int cancelled = 0;
  MPI_Test_cancelled(&*status, &cancelled);
  return cancelled != 0;
}

// The sender is lost: a message of it half arrived is let go (the buffer stays
// the caller's), so that the receiving rank goes on.
void MpiOperation::abandon() {
  if (!cancel_within(kAbandonLimit)) MPI_Request_free(&request_);
}

void MpiOperation::release() {
  if (stall_) throw CommFailure("release() of a collective (" + what_ + ")");
  MPI_Request_free(&request_);
}

// Who the wait is for: the peer of a message. For a collective, from the stall
// notices: the ranks waiting in it, those past it (they have done their part),
// and the missing ones: waiting in an earlier collective, or silent (stopped,
// lost, or still computing: the one to look at).
std::string MpiOperation::diagnosis() const {
  if (!stall_) return fmt::format("rank {} waiting on {}", own_rank_, peers_);
  std::vector<int> in, past;
  std::vector<std::string> missing;
  for (int rank = 0; rank < stall_->size(); ++rank) {
    const int64_t latest = stall_->latest(rank);
    if (latest == seq_)
      in.push_back(rank);
    else if (latest > seq_)
      past.push_back(rank);
    else if (latest >= 0 && latest >= seq_ - kRecentCollectives)
      missing.push_back(fmt::format("rank {} (waits in collective #{})", rank, latest));
    else
      missing.push_back(fmt::format("rank {} (silent: stopped, lost or still computing)", rank));
  }
  return fmt::format(
      "rank {} waiting on {} (collective #{}); in it: {}{}; missing: {}", own_rank_, peers_, seq_,
      detail::rank_list(in), past.empty() ? "" : "; done with it: " + detail::rank_list(past),
      missing.empty() ? std::string("none") : fmt::format("{}", fmt::join(missing, ", ")));
}

// One rank speaks for a stall: the lowest one waiting in this collective or
// (stuck behind) in a recent earlier one.
bool MpiOperation::speaks_for_stall() const {
  if (!stall_) return true;
  for (int rank = 0; rank < stall_->rank(); ++rank) {
    const int64_t latest = stall_->latest(rank);
    if (latest >= 0 && latest <= seq_ && latest >= seq_ - kRecentCollectives) return false;
  }
  return true;
}

}  // namespace distsgd::comm
