// parallel_for (parallel_for.hpp). Threads are started per call: a batch of
// images takes milliseconds to decode, a thread tens of microseconds to start,
// and no pool outlives the call to be shut down or leaked.
#include "data/parallel_for.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace distsgd::data {

void parallel_for(int64_t count, int threads, const std::function<void(int64_t)>& fn) {
  const int64_t workers = std::min<int64_t>(std::max(threads, 1), count);
  if (workers <= 1) {
    for (int64_t k = 0; k < count; ++k) fn(k);
    return;
  }
  std::atomic<int64_t> next{0};
  auto drain = [&] {
    for (int64_t k = next++; k < count; k = next++) fn(k);
  };
  std::vector<std::jthread> helpers;
  helpers.reserve(static_cast<std::size_t>(workers - 1));
  for (int64_t t = 1; t < workers; ++t) helpers.emplace_back(drain);
  drain();
}

}  // namespace distsgd::data
