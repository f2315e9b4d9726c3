// The simulated method of --algo, and how many of the nodes train.
#include <fmt/format.h>

#include "core/errors.hpp"
#include "sim/cluster.hpp"
#include "sim/sim_allreduce.hpp"
#include "sim/sim_gossip.hpp"
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
  if (algo == "gossip-pull") return std::make_unique<SimGossip>(cluster, gossip::Mode::pull);
  if (algo == "gossip-push")
    return std::make_unique<SimGossip>(cluster, cluster.config().push_mode == "average"
                                                    ? gossip::Mode::push_average
                                                    : gossip::Mode::push_sum);
  throw ConfigError(fmt::format(
      "--algo {}: the simulator runs allreduce, asgd, easgd, gossip-pull, gossip-push", algo));
}

}  // namespace distsgd::sim
