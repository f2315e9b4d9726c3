#pragma once
// Who is who in the parameter-server methods (ASGD, EASGD): ranks [0, workers)
// train, ranks [workers, workers + servers) serve, and the flat parameter
// vector is split into `servers` balanced contiguous shards, shard s held by
// rank workers + s. Pure: the MPI engine and the simulator share it.
#include <cstdint>
#include <vector>

#include "methods/update_math.hpp"

namespace distsgd {

enum class PsMethod { asgd, easgd };

struct PsLayout {
  int workers = 0;
  int servers = 0;
  std::vector<math::Range> shards;  // shard s is held by rank workers + s
  int server_rank(int shard) const { return workers + shard; }
};

// Throws ConfigError when `nodes` cannot hold `servers` servers and a worker.
PsLayout make_ps_layout(int64_t numel, int nodes, int servers);

// The EASGD moving rate of each worker: alpha = beta / workers (Zhang et al. 2015).
inline float easgd_alpha(double beta, int workers) { return static_cast<float>(beta / workers); }

}  // namespace distsgd
