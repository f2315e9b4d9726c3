#include "comm/clock_alignment.hpp"

#include <chrono>

namespace distsgd::comm {

int64_t aligned_clock_origin_ns(Communicator& comm) {
  comm.barrier("the timeline's clock alignment");
  comm.barrier("the timeline's clock alignment");
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace distsgd::comm
