#pragma once
// Who has joined a stalled MPI collective. Private to the MPI backend.
//
// A collective that does not complete says nothing about which ranks are
// missing, so every rank that has waited in collective #seq longer than a
// second tells the others so, on a communicator of its own (a duplicate of the
// one the collective runs on: notices never mix with application messages).
// A rank that has stalled longer learns from the notices it received which
// ranks are in the operation with it; the others have not joined it.
#include <mpi.h>

#include <cstdint>
#include <deque>
#include <vector>

namespace distsgd::comm::detail {

class StallChannel {
 public:
  // Collective over `comm` (duplicates it).
  explicit StallChannel(MPI_Comm comm);
  ~StallChannel();
  StallChannel(const StallChannel&) = delete;
  StallChannel& operator=(const StallChannel&) = delete;

  // Tells every other rank that this one waits in collective `seq`.
  void announce(int64_t seq);
  // Takes the notices that have arrived (never blocks).
  void poll();
  // The collective `rank` last said it waits in (-1: none yet).
  int64_t latest(int rank) const { return latest_[static_cast<std::size_t>(rank)]; }
  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<int64_t> latest_;  // per rank: the collective it last said it waits in
  std::deque<int64_t> sent_;     // buffers of the notices sent (freed, never waited on)
  int64_t incoming_ = 0;         // buffer of the posted receive
  MPI_Request receive_ = MPI_REQUEST_NULL;
};

}  // namespace distsgd::comm::detail
