#pragma once
// Every replica starts from rank 0's initial parameters and batch-norm
// statistics, whatever its own random initialisation was.
#include "algorithms/algorithm.hpp"
#include "comm/communicator.hpp"

namespace distsgd {

// Collective over `comm`.
void share_initial_state(comm::Communicator& comm, ReplicaView replica);

}  // namespace distsgd
