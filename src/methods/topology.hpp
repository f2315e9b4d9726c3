#pragma once
// Who a gossiping node talks to next (--topology):
//   random:      uniform over the other nodes, from a generator seeded by
//                (seed, rank), as the seed paper's code did;
//   ring:        the next node, rank + 1 (mod n);
//   exponential: rank + 2^k (mod n), for k = 0, 1, ..., floor(log2(n - 1)),
//                one k per round in turn (the graph of Stochastic Gradient Push).
// next(r) gives r distinct peers for one round.
#include <cstdint>
#include <string>
#include <vector>

#include "core/random.hpp"

namespace distsgd {

class PeerSchedule {
 public:
  // Throws ConfigError for an unknown kind or peers outside [1, nodes - 1].
  PeerSchedule(const std::string& kind, int rank, int nodes, uint64_t seed);

  std::vector<int> next(int peers);
  static std::vector<std::string> kinds() { return {"random", "ring", "exponential"}; }

 private:
  std::string kind_;
  int rank_, nodes_;
  SplitMix64 random_;
  int64_t round_ = 0;
};

}  // namespace distsgd
