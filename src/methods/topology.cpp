#include "methods/topology.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "core/errors.hpp"

namespace distsgd {

PeerSchedule::PeerSchedule(const std::string& kind, int rank, int nodes, uint64_t seed)
    : kind_(kind),
      rank_(rank),
      nodes_(nodes),
      random_(mix64(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(rank) + 1)),
      excluded_(static_cast<std::size_t>(std::max(nodes, 0)), 0) {
  const auto known = kinds();
  if (std::find(known.begin(), known.end(), kind) == known.end())
    throw ConfigError("unknown --topology '" + kind + "' (known: random, ring, exponential)");
  if (nodes < 2)
    throw ConfigError(fmt::format("gossip needs at least 2 ranks; this job has {}", nodes));
}

void PeerSchedule::exclude(int node) {
  if (node < 0 || node >= nodes_ || node == rank_)
    throw std::invalid_argument(fmt::format("rank {} cannot exclude node {}", rank_, node));
  excluded_[static_cast<std::size_t>(node)] = 1;
}

std::vector<int> PeerSchedule::next(int peers) {
  if (peers < 1 || peers >= nodes_)
    throw ConfigError(
        fmt::format("--gossip-peers {} must be between 1 and the number of ranks minus one ({})",
                    peers, nodes_ - 1));
  std::vector<int> chosen;
  // The first node at or after `node` (mod n) that may be chosen: not this
  // one, not lost, not already chosen; -1 if none is left.
  const auto live_from = [&](int node) {
    for (int i = 0; i < nodes_; ++i) {
      const int candidate = (node + i) % nodes_;
      if (candidate != rank_ && !excluded(candidate) &&
          std::find(chosen.begin(), chosen.end(), candidate) == chosen.end())
        return candidate;
    }
    return -1;
  };
  if (kind_ == "random") {
    // A partial Fisher-Yates shuffle of the other (live) nodes.
    std::vector<int> others;
    for (int node = 0; node < nodes_; ++node) {
      if (node != rank_ && !excluded(node)) others.push_back(node);
    }
    const int take = std::min(peers, static_cast<int>(others.size()));
    for (int i = 0; i < take; ++i) {
      const auto j = i + static_cast<int>(random_.below(static_cast<uint64_t>(others.size() - i)));
      std::swap(others[static_cast<std::size_t>(i)], others[static_cast<std::size_t>(j)]);
      chosen.push_back(others[static_cast<std::size_t>(i)]);
    }
  } else if (kind_ == "ring") {
    for (int i = 1; static_cast<int>(chosen.size()) < peers; ++i) {
      const int node = live_from((rank_ + i) % nodes_);
      if (node < 0) break;
      chosen.push_back(node);
    }
  } else {
    int exponents = 0;  // floor(log2(n - 1)) + 1 distances: 1, 2, 4, ...
    while ((int64_t{1} << exponents) <= nodes_ - 1) ++exponents;
    for (int i = 0; static_cast<int>(chosen.size()) < peers && i < exponents; ++i) {
      const int64_t k = (round_ + i) % exponents;
      const int node = live_from(static_cast<int>((rank_ + (int64_t{1} << k)) % nodes_));
      if (node >= 0) chosen.push_back(node);
    }
    // More peers than distances: fill in with the ring neighbours not yet taken.
    for (int i = 1; static_cast<int>(chosen.size()) < peers; ++i) {
      const int node = live_from((rank_ + i) % nodes_);
      if (node < 0) break;
      chosen.push_back(node);
    }
  }
  ++round_;
  return chosen;
}

}  // namespace distsgd
