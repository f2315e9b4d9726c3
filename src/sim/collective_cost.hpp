#pragma once
// The time of an all-reduce of S bytes on N nodes, from the network profile
// alone (no contention with other traffic; every step's messages run in
// parallel on distinct links). cost(m) is the profile's cost for a message of
// m bytes, L(m) + m / W(m), so each step uses the range of its own size.
//
//   ring              reduce-scatter then all-gather around a ring: 2(N-1)
//                     steps, each a message of S/N bytes:
//                       2(N-1) cost(S/N) = 2(N-1)/N S/W + 2(N-1) L.
//   tree              a binary-tree reduce to the root, then a broadcast back
//                     down, whole vectors, no pipelining:
//                       2 ceil(log2 N) cost(S) = 2 ceil(log2 N) (L + S/W).
//   halving-doubling  Rabenseifner's algorithm (Thakur, Rabenseifner and Gropp,
//                     "Optimization of Collective Communication Operations in
//                     MPICH", IJHPCA 2005): a reduce-scatter by recursive
//                     halving, then an all-gather by recursive doubling. For N
//                     = 2^k, step i (1..k) of each half exchanges S/2^i bytes:
//                       2 sum_i cost(S/2^i) = 2 k L + 2 (N-1)/N S/W.
//                     For other N, with P = 2^floor(log2 N) and N - P extra
//                     nodes: each extra node first sends its whole vector to a
//                     partner among the P (one message of S), the P run the
//                     algorithm above, and the partners send the result back:
//                       T(N) = T(P) + 2 cost(S).
//   openmpi           what distsgd's engine gets from Open MPI's non-blocking
//                     all-reduce (coll/libnbc, nbc_iallreduce.c): tree (a
//                     binomial reduce and broadcast) below 4 ranks or 64 KiB,
//                     ring from there (the engine passes a separate send
//                     buffer from 4 ranks on; in place, libnbc is always
//                     binomial).
//
// N = 1 costs 0 (nothing to exchange), as does a free profile.
#include <string>

#include "sim/network_profile.hpp"

namespace distsgd::sim {

enum class AllreduceAlgorithm { ring, tree, halving_doubling, openmpi };

// "ring", "tree", "halving-doubling" or "openmpi"; ConfigError listing them otherwise.
AllreduceAlgorithm parse_allreduce_algorithm(const std::string& name);
std::string allreduce_algorithm_name(AllreduceAlgorithm algorithm);

// Seconds of an all-reduce of `bytes` on `nodes` nodes. nodes < 1: ConfigError;
// negative or NaN bytes: std::invalid_argument.
double allreduce_s(AllreduceAlgorithm algorithm, int nodes, double bytes,
                   const NetworkProfile& profile);

}  // namespace distsgd::sim
