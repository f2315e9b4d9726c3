#include "algorithms/initial_state.hpp"

namespace distsgd {

void share_initial_state(comm::Communicator& comm, ReplicaView replica) {
  comm.broadcast(replica.params.data(), replica.params.size_bytes(), 0, "initial parameters");
  if (!replica.buffers.empty())
    comm.broadcast(replica.buffers.data(), replica.buffers.size_bytes(), 0, "initial buffers");
}

}  // namespace distsgd
