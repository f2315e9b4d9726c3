#pragma once
// Every rank must run the same build of distsgd with the same configuration:
// one rank started with another flag (or an older binary on one node) would
// train something else, or wait forever in an exchange the others never make.
#include "comm/communicator.hpp"
#include "core/config.hpp"

namespace distsgd {

// Collective over `comm`. Throws ConfigError on a rank whose build or
// configuration differs from rank 0's, naming the first differing flag.
void check_same_as_rank0(const TrainConfig& config, comm::Communicator& comm);

// The build compared across ranks: version and a checksum of the executable.
std::string build_identity();

}  // namespace distsgd
