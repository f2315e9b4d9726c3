#pragma once
// The inside of a Request and of a Communicator. Private to src/comm/.
#include <mpi.h>

#include <chrono>
#include <memory>
#include <string>

#include "comm/communicator.hpp"
#include "comm/stall_channel.hpp"

namespace distsgd::comm {

using Clock = std::chrono::steady_clock;

struct Request::Impl {
  MPI_Request request = MPI_REQUEST_NULL;
  std::string what;   // the operation, for errors
  std::string peers;  // who we wait for, for errors ("rank 3", "ranks 0-3")
  int own_rank = 0;
  Clock::duration timeout{};
  Clock::duration stall_warning{};  // warn (and repeat) after waiting this long; 0: never
  // Collectives: the notices of who waits in them, and this one's number.
  std::shared_ptr<detail::StallChannel> stall;
  int64_t seq = 0;
  Clock::time_point started = Clock::now();
  Clock::time_point finished{};
  bool done = false;
};

struct Communicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  Clock::duration timeout = std::chrono::seconds(300);
  Clock::duration stall_warning = std::chrono::seconds(60);
  std::shared_ptr<detail::StallChannel> stall;
  int64_t collectives = 0;  // started so far: every rank numbers them alike
  ~Impl() {
    stall.reset();  // frees its communicator before MPI_Finalize
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (comm != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm);
  }
};

}  // namespace distsgd::comm
