#pragma once
// A common origin for the ranks' steady clocks (the timeline's time 0). Steady
// clocks of different hosts share no epoch, so each rank reads its own at the
// same moment: the end of a barrier. Ranks leave a barrier within a few
// microseconds of one another over shared memory (more over a network), which
// bounds how far apart the ranks' events can appear to be.
#include <cstdint>

#include "comm/communicator.hpp"

namespace distsgd::comm {

// Collective over `comm`: this rank's steady clock, in nanoseconds since its
// epoch, at the end of the second of two barriers (the first gathers ranks
// that arrive late, so that the second one ends at nearly one moment).
int64_t aligned_clock_origin_ns(Communicator& comm);

}  // namespace distsgd::comm
