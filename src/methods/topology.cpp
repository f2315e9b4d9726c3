#include "methods/topology.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/errors.hpp"

namespace distsgd {

PeerSchedule::PeerSchedule(const std::string& kind, int rank, int nodes, uint64_t seed)
    : kind_(kind),
      rank_(rank),
      nodes_(nodes),
      random_(mix64(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(rank) + 1)) {
  const auto known = kinds();
  if (std::find(known.begin(), known.end(), kind) == known.end())
    throw ConfigError("unknown --topology '" + kind + "' (known: random, ring, exponential)");
  if (nodes < 2)
    throw ConfigError(fmt::format("gossip needs at least 2 ranks; this job has {}", nodes));
}

std::vector<int> PeerSchedule::next(int peers) {
  if (peers < 1 || peers >= nodes_)
    throw ConfigError(
        fmt::format("--gossip-peers {} must be between 1 and the number of ranks minus one ({})",
                    peers, nodes_ - 1));
  std::vector<int> chosen;
  if (kind_ == "random") {
    // A partial Fisher-Yates shuffle of the other nodes.
    std::vector<int> others;
    for (int node = 0; node < nodes_; ++node) {
      if (node != rank_) others.push_back(node);
    }
    for (int i = 0; i < peers; ++i) {
      const auto j = i + static_cast<int>(random_.below(static_cast<uint64_t>(others.size() - i)));
      std::swap(others[static_cast<std::size_t>(i)], others[static_cast<std::size_t>(j)]);
      chosen.push_back(others[static_cast<std::size_t>(i)]);
    }
  } else if (kind_ == "ring") {
    for (int i = 1; i <= peers; ++i) chosen.push_back((rank_ + i) % nodes_);
  } else {
    int exponents = 0;  // floor(log2(n - 1)) + 1 distances: 1, 2, 4, ...
    while ((int64_t{1} << exponents) <= nodes_ - 1) ++exponents;
    for (int i = 0; static_cast<int>(chosen.size()) < peers && i < exponents; ++i) {
      const int64_t k = (round_ + i) % exponents;
      chosen.push_back(static_cast<int>((rank_ + (int64_t{1} << k)) % nodes_));
    }
    // More peers than distances: fill in with the ring neighbours not yet taken.
    for (int i = 1; static_cast<int>(chosen.size()) < peers; ++i) {
      const int node = (rank_ + i) % nodes_;
      if (std::find(chosen.begin(), chosen.end(), node) == chosen.end()) chosen.push_back(node);
    }
  }
  ++round_;
  return chosen;
}

}  // namespace distsgd
