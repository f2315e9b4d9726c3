#include <gtest/gtest.h>

#include <vector>

#include "data/random.hpp"

namespace distsgd::data {
namespace {

TEST(SplitMix64, MatchesReferenceSequence) {
  // First outputs of Vigna's splitmix64.c seeded with 0: the generator is the
  // standard one, so every platform and library draws the same numbers.
  SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(rng.next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(rng.next(), 0x06c45d188009454fULL);
}

TEST(SplitMix64, BelowStaysInRangeAndIsRoughlyUniform) {
  SplitMix64 rng(99);
  std::vector<int> counts(7, 0);
  constexpr int kDraws = 70000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t v = rng.below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, kDraws / 7, 400);
  EXPECT_EQ(rng.below(1), 0u);
}

TEST(SplitMix64, BelowHandlesHugeBounds) {
  // A bound just above 2^63 rejects almost half the draws; it must still end.
  SplitMix64 rng(3);
  const uint64_t bound = (uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 1000; ++i) ASSERT_LT(rng.below(bound), bound);
}

}  // namespace
}  // namespace distsgd::data
