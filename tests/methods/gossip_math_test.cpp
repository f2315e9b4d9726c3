// The mixing rules of gossip against their formulas, and what makes them
// correct when repeated: pairwise averaging and push-sum reach the exact mean,
// and push-sum conserves the total weight.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "methods/update_math.hpp"
#include "core/random.hpp"

namespace distsgd::math {
namespace {

TEST(AverageWithPeers, IsTheMeanOfTheOwnAndThePeersVectors) {
  std::vector<float> x = {1.0f, 2.0f, -3.0f};
  const std::vector<float> a = {3.0f, 4.0f, 0.0f}, b = {5.0f, -6.0f, 6.0f};
  const std::vector<std::span<const float>> peers = {a, b};
  average_with_peers(x, peers);
  EXPECT_FLOAT_EQ(x[0], 3.0f);
  EXPECT_FLOAT_EQ(x[1], 0.0f);
  EXPECT_FLOAT_EQ(x[2], 1.0f);
  std::vector<float> y = {1.0f, 1.0f};
  const std::vector<float> z = {3.0f, 5.0f};
  const std::vector<std::span<const float>> one = {z};
  average_with_peers(y, one);
  EXPECT_EQ(y, (std::vector<float>{2.0f, 3.0f}));
  const std::vector<float> shorter = {1.0f};
  const std::vector<std::span<const float>> bad = {shorter};
  EXPECT_THROW(average_with_peers(y, bad), std::invalid_argument);
}

TEST(PushSum, ShareAndAbsorbConserveMassAndDebiasDivides) {
  std::vector<float> x = {4.0f, -2.0f};
  double w = 1.0;
  push_sum_share(x, w, 2);
  EXPECT_EQ(x, (std::vector<float>{2.0f, -1.0f}));
  EXPECT_EQ(w, 0.5);
  std::vector<float> other = {1.0f, 1.0f};
  double other_w = 0.25;
  push_sum_absorb(other, other_w, x, w);
  EXPECT_EQ(other, (std::vector<float>{3.0f, 0.0f}));
  EXPECT_EQ(other_w, 0.75);
  std::vector<float> z(2);
  push_sum_debias(other, other_w, z);
  EXPECT_FLOAT_EQ(z[0], 4.0f);
  EXPECT_FLOAT_EQ(z[1], 0.0f);
  EXPECT_THROW(push_sum_debias(other, 0.0, z), std::invalid_argument);
  std::vector<float> third = {3.0f, 6.0f};
  double third_w = 1.5;
  push_sum_share(third, third_w, 3);
  EXPECT_FLOAT_EQ(third[0], 1.0f);
  EXPECT_FLOAT_EQ(third[1], 2.0f);
  EXPECT_DOUBLE_EQ(third_w, 0.5);
  EXPECT_THROW(push_sum_share(third, third_w, 0), std::invalid_argument);
}

// Many random rounds of push-sum over 5 nodes: every z_i reaches the mean of
// the initial vectors, and the weights always sum to the number of nodes.
TEST(PushSum, RandomRoundsReachTheMeanWithTheWeightConserved) {
  constexpr int kNodes = 5;
  std::vector<std::vector<float>> x(kNodes, std::vector<float>(3));
  std::vector<double> w(kNodes, 1.0);
  std::vector<double> mean(3, 0.0);
  for (int i = 0; i < kNodes; ++i) {
    for (int j = 0; j < 3; ++j) {
      x[i][j] = static_cast<float>(i * 10 + j * j - 7);
      mean[j] += x[i][j] / kNodes;
    }
  }
  SplitMix64 random(7);
  for (int round = 0; round < 60; ++round) {
    std::vector<std::vector<float>> sent(kNodes);
    std::vector<double> sent_w(kNodes);
    std::vector<int> target(kNodes);
    for (int i = 0; i < kNodes; ++i) {
      push_sum_share(x[i], w[i], 2);
      sent[i] = x[i];
      sent_w[i] = w[i];
      target[i] = (i + 1 + static_cast<int>(random.below(kNodes - 1))) % kNodes;
    }
    for (int i = 0; i < kNodes; ++i)
      push_sum_absorb(x[target[i]], w[target[i]], sent[i], sent_w[i]);
    double total = 0.0;
    for (double weight : w) total += weight;
    ASSERT_NEAR(total, kNodes, 1e-12) << "round " << round;
  }
  for (int i = 0; i < kNodes; ++i) {
    std::vector<float> z(3);
    push_sum_debias(x[i], w[i], z);
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(z[j], mean[j], 1e-5) << "node " << i;
  }
}

TEST(RelativeSquaredDistance, MatchesTheFormula) {
  const std::vector<float> x = {1.0f, 2.0f}, mean = {1.0f, 0.0f};
  EXPECT_DOUBLE_EQ(relative_squared_distance(x, mean), 4.0);
  EXPECT_DOUBLE_EQ(relative_squared_distance(mean, mean), 0.0);
  const std::vector<float> zeros = {0.0f, 0.0f};
  EXPECT_DOUBLE_EQ(relative_squared_distance(zeros, zeros), 0.0);
  EXPECT_TRUE(std::isinf(relative_squared_distance(x, zeros)));
}

}  // namespace
}  // namespace distsgd::math
