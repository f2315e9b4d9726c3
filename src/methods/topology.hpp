#pragma once
// Who a gossiping node talks to next (--topology):
//   random:      uniform over the other nodes, from a generator seeded by
//                (seed, rank), as the seed paper's code did;
//   ring:        the next node, rank + 1 (mod n);
//   exponential: rank + 2^k (mod n), for k = 0, 1, ..., floor(log2(n - 1)),
//                one k per round in turn (the graph of Stochastic Gradient Push).
// next(r) gives r distinct peers for one round.
//
// --survive-worker-loss: a node lost (silent past --timeout-s) is excluded and
// never chosen again. random draws from the live others only; ring and
// exponential take, for a lost target, the next live node after it (so the
// graph stays connected around the hole). With fewer live others than r, a
// round has fewer peers (none once every other node is lost). With nothing
// excluded the schedule is exactly the one above (checkpoints replay it).
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
  // `node` is lost: never chosen from now on (see above).
  void exclude(int node);
  bool excluded(int node) const { return excluded_[static_cast<std::size_t>(node)] != 0; }
  static std::vector<std::string> kinds() { return {"random", "ring", "exponential"}; }

 private:
  std::string kind_;
  int rank_, nodes_;
  SplitMix64 random_;
  int64_t round_ = 0;
  std::vector<char> excluded_;  // per node: lost
};

}  // namespace distsgd
