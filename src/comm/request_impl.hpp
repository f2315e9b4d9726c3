#pragma once
// The inside of a Request and of a Communicator. Private to src/comm/.
#include <mpi.h>

#include <chrono>
#include <string>

#include "comm/communicator.hpp"

namespace distsgd::comm {

using Clock = std::chrono::steady_clock;

struct Request::Impl {
  MPI_Request request = MPI_REQUEST_NULL;
  std::string what;   // the operation, for errors
  std::string peers;  // who we wait for, for errors ("rank 3", "ranks 0-3")
  int own_rank = 0;
  Clock::duration timeout{};
  Clock::time_point started = Clock::now();
  Clock::time_point finished{};
  bool done = false;
};

struct Communicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  Clock::duration timeout = std::chrono::seconds(300);
  ~Impl() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (comm != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm);
  }
};

}  // namespace distsgd::comm
