#pragma once
// Shared by the tests that run inside mpirun: the world communicator, and a
// scratch directory that every rank agrees on.
#include <string>

#include "comm/communicator.hpp"

namespace distsgd::testing {

comm::Communicator& world();
// A fresh directory, the same path on every rank (collective).
std::string shared_temp_dir(const std::string& name);

}  // namespace distsgd::testing
