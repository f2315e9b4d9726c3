#pragma once
// Runs fn(0) ... fn(count - 1) on `threads` threads: the caller's and
// threads - 1 started for the call (0 or 1: all on the caller's). Items are
// taken from a shared counter, so which thread runs an item varies; callers
// make fn(k) depend on k alone and write only its own outputs, which keeps
// the result the same for any thread count. fn must not throw (callers catch
// per item and report in order).
#include <cstdint>
#include <functional>

namespace distsgd::data {

void parallel_for(int64_t count, int threads, const std::function<void(int64_t)>& fn);

}  // namespace distsgd::data
