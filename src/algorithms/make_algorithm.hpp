#pragma once
// Builds the method named by --algo for this rank.
#include <memory>
#include <string>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "comm/communicator.hpp"
#include "core/config.hpp"

namespace distsgd {

std::vector<std::string> algorithm_names();
// Throws ConfigError for an unknown name or a rank count the method cannot use.
std::unique_ptr<Algorithm> make_algorithm(const TrainConfig& config, comm::Communicator& comm);

}  // namespace distsgd
