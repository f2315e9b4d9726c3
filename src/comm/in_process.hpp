#pragma once
// A group of ranks inside one process, for tests: the methods' cores run 16
// ranks on 16 threads as plain unit tests, with MPI's semantics (the contract
// of transport.hpp) and no MPI. Pure C++: one mutex and condition variable per
// group; a waiting rank sleeps rather than spins.
//
// Beyond the contract: for a collective, a timeout names exactly the ranks
// that have not joined it (and the last collective each has started); ranks
// that start different collectives as the same one (another order, kind or
// size) all fail with a CommFailure saying so. A plain send copies the
// message at once (it completes at once); a request dropped while pending is
// withdrawn (a receive is never filled after its buffer is gone).
#include <vector>

#include "comm/communicator.hpp"

namespace distsgd::comm {

// `size` communicators of one group: element r is rank r. Each is for one
// thread of rank r's own (and, as MPI_THREAD_MULTIPLE allows, for a second
// thread of the same rank, such as gossip's communication thread). The group
// lives as long as any of them, or anything made from them, does.
std::vector<Communicator> make_in_process_group(int size);

}  // namespace distsgd::comm
