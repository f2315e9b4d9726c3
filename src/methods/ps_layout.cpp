#include "methods/ps_layout.hpp"

#include <fmt/format.h>

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

}  // namespace distsgd
