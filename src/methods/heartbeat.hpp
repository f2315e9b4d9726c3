#pragma once
// How often a rank that waits for others (a finished worker waiting for the
// end of the run, a worker waiting at a checkpoint rendezvous) is answered
// while it waits: often enough that its own deadline (--timeout-s) never runs
// out while the others still train. Defined once for every method.
#include <algorithm>

namespace distsgd {

inline double heartbeat_interval_s(double timeout_s) { return std::min(1.0, timeout_s / 4); }

}  // namespace distsgd
