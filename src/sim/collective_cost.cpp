#include "sim/collective_cost.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "core/errors.hpp"

namespace distsgd::sim {

namespace {

// floor(log2 n) and ceil(log2 n) for n >= 1, in integers: no rounding of
// log2() at exact powers of two.
int floor_log2(int n) {
  int k = 0;
  while ((2LL << k) <= n) ++k;
  return k;
}
int ceil_log2(int n) {
  int k = 0;
  while ((1LL << k) < n) ++k;
  return k;
}

double ring_s(int nodes, double bytes, const NetworkProfile& profile) {
  return 2.0 * (nodes - 1) * profile.message_s(bytes / nodes);
}

double tree_s(int nodes, double bytes, const NetworkProfile& profile) {
  return 2.0 * ceil_log2(nodes) * profile.message_s(bytes);
}

double halving_doubling_s(int nodes, double bytes, const NetworkProfile& profile) {
  const int k = floor_log2(nodes);
  double seconds = 0.0;
  double message = bytes;
  for (int step = 0; step < k; ++step) {
    message /= 2.0;
    seconds += 2.0 * profile.message_s(message);
  }
  // Not a power of two: the extra nodes' vectors in before, the results out after.
  if ((1 << k) != nodes) seconds += 2.0 * profile.message_s(bytes);
  return seconds;
}

}  // namespace

AllreduceAlgorithm parse_allreduce_algorithm(const std::string& name) {
  if (name == "ring") return AllreduceAlgorithm::ring;
  if (name == "tree") return AllreduceAlgorithm::tree;
  if (name == "halving-doubling") return AllreduceAlgorithm::halving_doubling;
  if (name == "openmpi") return AllreduceAlgorithm::openmpi;
  throw ConfigError(
      fmt::format("unknown all-reduce algorithm '{}' (known: ring, tree, halving-doubling, openmpi)", name));
}

std::string allreduce_algorithm_name(AllreduceAlgorithm algorithm) {
  switch (algorithm) {
    case AllreduceAlgorithm::ring:
      return "ring";
    case AllreduceAlgorithm::tree:
      return "tree";
    case AllreduceAlgorithm::halving_doubling:
      return "halving-doubling";
    case AllreduceAlgorithm::openmpi:
      return "openmpi";
  }
  throw std::invalid_argument("allreduce_algorithm_name: not an algorithm");
}

double allreduce_s(AllreduceAlgorithm algorithm, int nodes, double bytes,
                   const NetworkProfile& profile) {
  if (nodes < 1) throw ConfigError(fmt::format("an all-reduce needs >= 1 node, not {}", nodes));
  if (!(bytes >= 0.0)) throw std::invalid_argument(fmt::format("allreduce_s: {} bytes", bytes));
  if (nodes == 1) return 0.0;
  switch (algorithm) {
    case AllreduceAlgorithm::ring:
      return ring_s(nodes, bytes, profile);
    case AllreduceAlgorithm::tree:
      return tree_s(nodes, bytes, profile);
    case AllreduceAlgorithm::halving_doubling:
      return halving_doubling_s(nodes, bytes, profile);
    case AllreduceAlgorithm::openmpi:
      return nodes < 4 || bytes < 65536.0 ? tree_s(nodes, bytes, profile)
                                          : ring_s(nodes, bytes, profile);
  }
  throw std::invalid_argument("allreduce_s: not an algorithm");
}

}  // namespace distsgd::sim
