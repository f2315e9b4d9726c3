#pragma once
// Builds the method named by --algo for this rank: a worker's Algorithm, or a
// server rank's ServerMethod.
#include <memory>
#include <string>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "algorithms/server_method.hpp"
#include "comm/communicator.hpp"
#include "core/config.hpp"

namespace distsgd {

std::vector<std::string> algorithm_names();

// This rank's role in the method. Throws ConfigError for an unknown method or
// a rank count the method cannot use, before any rank has sent anything.
Role role_for(const TrainConfig& config, int rank, int nodes);

// `world` is the whole job, `workers` the ranks whose role is worker (the same
// ranks as world for methods without servers).
std::unique_ptr<Algorithm> make_worker_method(const TrainConfig& config,
                                              comm::Communicator& world,
                                              comm::Communicator& workers);
std::unique_ptr<ServerMethod> make_server_method(const TrainConfig& config,
                                                 comm::Communicator& world);

}  // namespace distsgd
