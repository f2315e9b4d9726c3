#pragma once
// The inside of the Request and Communicator handles: a backend's object and
// the deadlines. Private to src/comm/; no backend's headers here.
#include <memory>

#include "comm/communicator.hpp"
#include "comm/transport.hpp"

namespace distsgd::comm {

struct Request::Impl {
  std::unique_ptr<PendingOperation> op;
  WaitLimits limits;  // the communicator's when the operation started
  Clock::time_point started = Clock::now();
  Clock::time_point finished{};
  bool done = false;  // seen complete by test()/wait(), or cancelled or released
};

struct Communicator::Impl {
  std::unique_ptr<Backend> backend;
  WaitLimits limits;
  int rank = 0, size = 1;  // the backend's, read once
};

}  // namespace distsgd::comm
