// shard_for_epoch (declared in dataset.hpp): every rank shuffles the same way
// from (seed, epoch) with its own Fisher-Yates and a portable generator, so the
// ranks agree on the permutation without talking, and then each takes its slice.
#include <numeric>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "data/dataset.hpp"
#include "core/random.hpp"

namespace distsgd::data {

std::vector<int64_t> shard_for_epoch(int64_t dataset_size, int rank, int world, uint64_t seed,
                                     int64_t epoch) {
  if (world < 1) throw ConfigError("sharding: world size " + std::to_string(world) + " < 1");
  if (rank < 0 || rank >= world) {
    throw ConfigError("sharding: rank " + std::to_string(rank) + " outside [0, " +
                      std::to_string(world) + ")");
  }
  if (dataset_size < world) {
    throw ConfigError("sharding: " + std::to_string(dataset_size) +
                      " samples cannot be split over " + std::to_string(world) + " ranks");
  }
  std::vector<int64_t> order(static_cast<size_t>(dataset_size));
  std::iota(order.begin(), order.end(), int64_t{0});
  SplitMix64 rng(mix64(seed) ^ mix64(static_cast<uint64_t>(epoch) + 0x9e3779b97f4a7c15ULL));
  for (int64_t i = dataset_size - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng.below(static_cast<uint64_t>(i) + 1));
    std::swap(order[i], order[j]);
  }
  const int64_t per = dataset_size / world;
  const auto first = order.begin() + rank * per;
  return std::vector<int64_t>(first, first + per);
}

}  // namespace distsgd::data
