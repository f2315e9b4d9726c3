// Roles and shards of the parameter-server methods, and what workers and
// servers share before the first step.
#include <fmt/format.h>

#include "algorithms/parameter_server.hpp"
#include "algorithms/ps_protocol.hpp"
#include "core/errors.hpp"

namespace distsgd {

PsLayout make_ps_layout(int64_t numel, int nodes, int servers) {
  if (nodes < 2)
    throw ConfigError(fmt::format(
        "a parameter-server method needs at least 2 ranks (1 worker and 1 server); this job has {}",
        nodes));
  if (servers < 1 || servers >= nodes)
    throw ConfigError(
        fmt::format("--servers {} must be between 1 and the number of ranks minus one ({})",
                    servers, nodes - 1));
  PsLayout layout;
  layout.workers = nodes - servers;
  layout.servers = servers;
  layout.shards = math::balanced_ranges(numel, servers);
  return layout;
}

std::string ps::kind_name(Kind kind) {
  switch (kind) {
    case Kind::push_gradient:
      return "gradient push";
    case Kind::elastic:
      return "elastic exchange";
    case Kind::pull:
      return "parameter pull";
    case Kind::done:
      return "end-of-training notice";
    case Kind::checkpoint:
      return "checkpoint request";
  }
  return fmt::format("request of unknown kind {}", static_cast<int64_t>(kind));
}

// Every rank gets the servers' final parameters: each server broadcasts its shard.
std::vector<float> gather_final_shards(comm::Communicator& world, const PsLayout& layout,
                                       std::span<const float> own_shard, int own_index) {
  int64_t numel = 0;
  for (const auto& range : layout.shards) numel += range.size;
  std::vector<float> all(static_cast<std::size_t>(numel));
  for (int s = 0; s < layout.servers; ++s) {
    const auto range = layout.shards[static_cast<std::size_t>(s)];
    if (s == own_index) std::copy(own_shard.begin(), own_shard.end(), all.begin() + range.offset);
    world.broadcast(all.data() + range.offset, static_cast<std::size_t>(range.size) * sizeof(float),
                    layout.server_rank(s),
                    fmt::format("final parameters of server rank {}", layout.server_rank(s)));
  }
  return all;
}

}  // namespace distsgd
