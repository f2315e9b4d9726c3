#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/errors.hpp"
#include "data/dataset.hpp"

namespace distsgd::data {
namespace {

TEST(Sharding, ShardsAreDisjointAndCoverPerTimesWorld) {
  for (int world : {1, 2, 3, 7}) {
    const int64_t size = 1000;
    const int64_t per = size / world;
    std::set<int64_t> seen;
    for (int rank = 0; rank < world; ++rank) {
      const auto shard = shard_for_epoch(size, rank, world, 42, 3);
      ASSERT_EQ(static_cast<int64_t>(shard.size()), per);
      for (int64_t i : shard) {
        ASSERT_GE(i, 0);
        ASSERT_LT(i, size);
        EXPECT_TRUE(seen.insert(i).second) << "index " << i << " in two shards";
      }
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), per * world);
  }
}

TEST(Sharding, SameOnEveryCall) {
  EXPECT_EQ(shard_for_epoch(500, 1, 4, 9, 2), shard_for_epoch(500, 1, 4, 9, 2));
}

TEST(Sharding, DiffersAcrossEpochsAndSeeds) {
  const auto base = shard_for_epoch(500, 0, 2, 9, 0);
  EXPECT_NE(base, shard_for_epoch(500, 0, 2, 9, 1));
  EXPECT_NE(base, shard_for_epoch(500, 0, 2, 10, 0));
  // The shuffle actually shuffles.
  std::vector<int64_t> sorted = base;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NE(base, sorted);
}

TEST(Sharding, PinnedPermutation) {
  // Resumed runs and ranks built by other compilers must agree on the order:
  // this permutation may only change together with a deliberate format change.
  // (Computed independently from the SplitMix64 definition in Python.)
  EXPECT_EQ(shard_for_epoch(10, 0, 1, 1, 0), (std::vector<int64_t>{6, 7, 5, 1, 4, 9, 2, 3, 0, 8}));
  EXPECT_EQ(shard_for_epoch(10, 1, 2, 1, 0), (std::vector<int64_t>{9, 2, 3, 0, 8}));
}

TEST(Sharding, PermutationsAreUniform) {
  // All 24 orders of 4 elements, each with probability 1/24: a Fisher-Yates
  // off by one (j drawn from [0, n) at every step) would fail this.
  std::map<std::vector<int64_t>, int> counts;
  constexpr int kEpochs = 24000;
  for (int e = 0; e < kEpochs; ++e) ++counts[shard_for_epoch(4, 0, 1, 5, e)];
  EXPECT_EQ(counts.size(), 24u);
  for (const auto& [order, n] : counts) EXPECT_NEAR(n, kEpochs / 24, 150);
}

TEST(Sharding, InvalidArgumentsAreConfigErrors) {
  EXPECT_THROW(shard_for_epoch(10, 0, 0, 1, 0), ConfigError);
  EXPECT_THROW(shard_for_epoch(10, 2, 2, 1, 0), ConfigError);
  EXPECT_THROW(shard_for_epoch(10, -1, 2, 1, 0), ConfigError);
  EXPECT_THROW(shard_for_epoch(3, 0, 4, 1, 0), ConfigError);
  EXPECT_EQ(shard_for_epoch(4, 3, 4, 1, 0).size(), 1u);
}

}  // namespace
}  // namespace distsgd::data
