// The simulated method of --algo, and how many of the nodes train.
#include <fmt/format.h>

#include "core/errors.hpp"
#include "sim/cluster.hpp"
#include "sim/sim_allreduce.hpp"
#include "sim/sim_gossip.hpp"
#include "sim/sim_local_sgd.hpp"
#include "sim/sim_parameter_server.hpp"

namespace distsgd::sim {

int workers_of(const TrainConfig& config, int nodes) {
  const bool servers = config.algo == "asgd" || config.algo == "easgd";
  return servers ? make_ps_layout(0, nodes, config.servers).workers : nodes;
}

std::unique_ptr<SimMethod> make_sim_method(Cluster& cluster) {
  const auto& algo = cluster.config().algo;
  if (algo == "allreduce") return std::make_unique<SimAllReduce>(cluster);
  if (algo == "asgd") return std::make_unique<SimParameterServer>(cluster, PsMethod::asgd);
  if (algo == "easgd") return std::make_unique<SimParameterServer>(cluster, PsMethod::easgd);
  if (algo == "gossip-pull" || algo == "gossip-push" || algo == "gossip-pga")
    return std::make_unique<SimGossip>(cluster, gossip::mode_for(cluster.config()));
  if (algo == "local-sgd") return std::make_unique<SimLocalSgd>(cluster);
  throw ConfigError(fmt::format(
      "--algo {}: the simulator runs allreduce, asgd, easgd, gossip-pull, gossip-push, "
      "local-sgd, gossip-pga",
      algo));
}

}  // namespace distsgd::sim
