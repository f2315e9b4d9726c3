// StallChannel: notices "I wait in collective #seq", one small message to each
// peer, sent only once a wait has lasted a second (so a healthy run sends none).
#include "comm/mpi_stall_channel.hpp"

#include <algorithm>

#include "comm/mpi_check.hpp"

namespace distsgd::comm::detail {
namespace {
constexpr int kNoticeTag = 1;
}

StallChannel::StallChannel(MPI_Comm comm) {
  check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup (stall notices)");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  latest_.assign(static_cast<std::size_t>(size_), -1);
}

StallChannel::~StallChannel() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (receive_ != MPI_REQUEST_NULL) {
    // A receive (not a collective): cancelling it is safe even when the peer is gone.
    MPI_Cancel(&receive_);
    MPI_Wait(&receive_, MPI_STATUS_IGNORE);
  }
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void StallChannel::announce(int64_t seq) {
  latest_[static_cast<std::size_t>(rank_)] = seq;
  const int64_t& notice = sent_.emplace_back(seq);
  for (int peer = 0; peer < size_; ++peer) {
    if (peer == rank_) continue;
    // Eager-sized and never waited on: a stalled or lost peer cannot hold us here.
    MPI_Request request;
    if (MPI_Isend(&notice, 1, MPI_INT64_T, peer, kNoticeTag, comm_, &request) == MPI_SUCCESS)
      MPI_Request_free(&request);
  }
}

void StallChannel::poll() {
  // Receive with Irecv + Test, never Iprobe + blocking Recv (which can block on
  // a message of a rank that has died).
  for (;;) {
    if (receive_ == MPI_REQUEST_NULL)
      check(MPI_Irecv(&incoming_, 1, MPI_INT64_T, MPI_ANY_SOURCE, kNoticeTag, comm_, &receive_),
            "receive of stall notices");
    int done = 0;
    MPI_Status status;
    check(MPI_Test(&receive_, &done, &status), "receive of stall notices");
    if (!done) return;
    auto& latest = latest_[static_cast<std::size_t>(status.MPI_SOURCE)];
    latest = std::max(latest, incoming_);
  }
}

}  // namespace distsgd::comm::detail
