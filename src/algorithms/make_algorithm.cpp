#include "algorithms/make_algorithm.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "algorithms/allreduce.hpp"
#include "algorithms/gossip.hpp"
#include "algorithms/local_sgd.hpp"
#include "algorithms/parameter_server.hpp"
#include "core/errors.hpp"

namespace distsgd {
namespace {

bool is_parameter_server(const std::string& algo) { return algo == "asgd" || algo == "easgd"; }
bool is_gossip(const std::string& algo) {
  return algo == "gossip-pull" || algo == "gossip-push" || algo == "gossip-pga";
}
// Every rank takes every step: no rank may leave early.
bool is_lockstep(const std::string& algo) {
  return algo == "allreduce" || algo == "local-sgd" || algo == "gossip-pga";
}

void check_known(const std::string& algo) {
  for (const auto& name : algorithm_names()) {
    if (name == algo) return;
  }
  std::string names;
  for (const auto& name : algorithm_names()) names += (names.empty() ? "" : ", ") + name;
  throw ConfigError("unknown --algo '" + algo + "' (known: " + names + ")");
}

}  // namespace

std::vector<std::string> algorithm_names() {
  return {"allreduce", "asgd", "easgd", "gossip-pull", "gossip-push", "local-sgd", "gossip-pga"};
}

Role role_for(const TrainConfig& config, int rank, int nodes) {
  check_known(config.algo);
  const bool has_servers = is_parameter_server(config.algo);
  if (is_lockstep(config.algo) && !config.leave_early.empty())
    throw ConfigError("--leave-early needs an asynchronous method: with --algo " + config.algo +
                      " every rank takes every step");
  const int workers = has_servers ? make_ps_layout(0, nodes, config.servers).workers : nodes;
  if (is_gossip(config.algo)) {
    if (nodes < 2)
      throw ConfigError(
          fmt::format("--algo {} needs at least 2 ranks; this job has {}", config.algo, nodes));
    if (config.gossip_peers >= nodes)
      throw ConfigError(fmt::format("--gossip-peers {} must be less than the number of ranks ({})",
                                    config.gossip_peers, nodes));
  }
  for (const auto& [flag, spec] : {std::pair{"--straggler", config.straggler_spec()},
                                   std::pair{"--leave-early", config.leave_early_spec()}}) {
    if (spec && spec->rank >= workers)
      throw ConfigError(fmt::format("{} names rank {}, but the workers are ranks 0-{}", flag,
                                    spec->rank, workers - 1));
  }
  return rank < workers ? Role::worker : Role::server;
}

std::unique_ptr<Algorithm> make_worker_method(const TrainConfig& config,
                                              comm::Communicator& world,
                                              comm::Communicator& workers) {
  if (role_for(config, world.rank(), world.size()) != Role::worker)
    throw std::logic_error("make_worker_method on a server rank");
  if (config.algo == "allreduce") return std::make_unique<AllReduceSgd>(world);
  if (config.algo == "local-sgd") return std::make_unique<LocalSgd>(config, world);
  if (is_gossip(config.algo)) {
    return std::make_unique<GossipSgd>(gossip::mode_for(config), config, world, &workers);
  }
  const auto method = config.algo == "asgd" ? PsMethod::asgd : PsMethod::easgd;
  return std::make_unique<ParameterServerWorker>(method, config, world, workers);
}

std::unique_ptr<ServerMethod> make_server_method(const TrainConfig& config,
                                                 comm::Communicator& world) {
  if (role_for(config, world.rank(), world.size()) != Role::server)
    throw std::logic_error("make_server_method on a worker rank");
  const auto method = config.algo == "asgd" ? PsMethod::asgd : PsMethod::easgd;
  return std::make_unique<ParameterServer>(method, config, world);
}

}  // namespace distsgd
