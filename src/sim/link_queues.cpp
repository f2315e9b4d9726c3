#include "sim/link_queues.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/errors.hpp"

namespace distsgd::sim {

namespace {
int checked_nodes(int nodes) {
  if (nodes < 1)
    throw ConfigError(fmt::format("the simulated network needs >= 1 node, not {}", nodes));
  return nodes;
}
}  // namespace

LinkQueues::LinkQueues(int nodes, NetworkProfile profile, bool queues)
    : profile_(std::move(profile)),
      queues_(queues),
      out_free_(checked_nodes(nodes), 0.0),
      in_free_(nodes, 0.0),
      sent_s_(nodes, 0.0),
      received_s_(nodes, 0.0) {}

int LinkQueues::checked(int node, const char* role) const {
  if (node < 0 || node >= nodes())
    throw std::out_of_range(
        fmt::format("LinkQueues::send: {} node {} outside [0, {})", role, node, nodes()));
  return node;
}

double LinkQueues::send(int from, int to, double bytes, double now) {
  checked(from, "sending");
  checked(to, "receiving");
  if (!(bytes >= 0.0) || std::isnan(now))
    throw std::invalid_argument(fmt::format("LinkQueues::send: {} bytes at time {}", bytes, now));
  if (from == to) return now;
  const LinkCost cost = profile_.cost(bytes);
  const double transfer = cost.transfer_s(bytes);
  sent_s_[from] += transfer;
  received_s_[to] += transfer;
  if (!queues_) return now + cost.latency_s + transfer;
  const double tx_start = std::max(now, out_free_[from]);
  out_free_[from] = tx_start + transfer;
  const double rx_start = std::max(tx_start + cost.latency_s, in_free_[to]);
  in_free_[to] = rx_start + transfer;
  return in_free_[to];
}

double LinkQueues::sent_s(int node) const { return sent_s_[checked(node, "queried")]; }
double LinkQueues::received_s(int node) const { return received_s_[checked(node, "queried")]; }

}  // namespace distsgd::sim
