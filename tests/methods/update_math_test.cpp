// The update math against its formulas (sgd_step against torch::optim::SGD
// itself: tests/train/sgd_step_matches_torch_test.cpp).
#include "methods/update_math.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace distsgd::math {
namespace {

TEST(SgdStep, PlainSgdFormulaWithoutMomentum) {
  std::vector<float> x = {1.0f, -2.0f, 0.5f, 0.0f};
  const std::vector<float> g = {0.5f, 0.25f, -1.0f, 2.0f};
  const double lr = 0.1, wd = 0.01;
  std::vector<double> expected(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) expected[i] = x[i] - lr * (g[i] + wd * x[i]);
  MomentumState state;
  sgd_step(x, g, state, SgdHyper{0.0, wd, false}, lr);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], expected[i], 1e-7) << i;
  EXPECT_FALSE(state.started());  // no momentum, no buffer
}

TEST(SgdStep, FirstMomentumStepSetsTheBufferToTheGradient) {
  std::vector<float> x = {1.0f, -2.0f, 3.0f};
  const std::vector<float> g = {0.5f, 0.25f, -1.0f};
  const double lr = 0.5, mu = 0.9, wd = 0.1;
  MomentumState state;
  const std::vector<float> x0 = x;
  sgd_step(x, g, state, SgdHyper{mu, wd, false}, lr);
  ASSERT_EQ(state.buffer.size(), 3u);
  std::vector<double> v(3);
  for (int i = 0; i < 3; ++i) {
    v[i] = g[i] + wd * x0[i];  // not mu * 0 + d, and not (1 - mu) * d
    EXPECT_NEAR(state.buffer[i], v[i], 1e-7) << i;
    EXPECT_NEAR(x[i], x0[i] - lr * v[i], 1e-6) << i;
  }
  // Second step: v = mu v + d; Nesterov applies d + mu v.
  const std::vector<float> x1 = x;
  sgd_step(x, g, state, SgdHyper{mu, wd, true}, lr);
  for (int i = 0; i < 3; ++i) {
    const double d = g[i] + wd * x1[i];
    const double v2 = mu * v[i] + d;
    EXPECT_NEAR(state.buffer[i], v2, 1e-6) << i;
    EXPECT_NEAR(x[i], x1[i] - lr * (d + mu * v2), 1e-6) << i;
  }
}

TEST(SgdStep, SizeMismatchThrowsAndLeavesXAlone) {
  std::vector<float> x = {1.0f, 2.0f, 3.0f};
  const std::vector<float> g = {1.0f, 2.0f};
  MomentumState state;
  EXPECT_THROW(sgd_step(x, g, state, SgdHyper{0.9, 0.0, false}, 0.1), std::invalid_argument);
  EXPECT_THROW(sgd_step(x, g, state, SgdHyper{0.0, 0.0, false}, 0.1), std::invalid_argument);
  EXPECT_EQ(x, (std::vector<float>{1.0f, 2.0f, 3.0f}));
  EXPECT_FALSE(state.started());

  // A momentum buffer from a vector of another size.
  MomentumState other;
  other.buffer = {0.0f, 0.0f};
  const std::vector<float> g3 = {1.0f, 1.0f, 1.0f};
  EXPECT_THROW(sgd_step(x, g3, other, SgdHyper{0.9, 0.0, false}, 0.1), std::invalid_argument);
  EXPECT_EQ(x, (std::vector<float>{1.0f, 2.0f, 3.0f}));
}

TEST(Scale, MultipliesEveryElement) {
  std::vector<float> x = {4.0f, -8.0f, 0.0f, 1.0f};
  scale(x, 0.25f);
  EXPECT_EQ(x, (std::vector<float>{1.0f, -2.0f, 0.0f, 0.25f}));
  scale(x, -2.0f);
  EXPECT_EQ(x, (std::vector<float>{-2.0f, 4.0f, -0.0f, -0.5f}));
  std::vector<float> empty;
  EXPECT_NO_THROW(scale(empty, 3.0f));
}

TEST(MaxAbsDifference, LargestAbsoluteDifference) {
  const std::vector<float> a = {1.0f, 2.0f, 3.0f, -1.0f};
  const std::vector<float> b = {1.0f, 2.5f, 1.0f, 0.5f};
  EXPECT_FLOAT_EQ(max_abs_difference(a, b), 2.0f);
  EXPECT_FLOAT_EQ(max_abs_difference(b, a), 2.0f);
  const std::vector<float> c = {0.0f, 0.0f, 0.0f, -7.0f};
  EXPECT_FLOAT_EQ(max_abs_difference(a, c), 6.0f);  // a negative difference counts by size
  EXPECT_EQ(max_abs_difference(a, a), 0.0f);
  EXPECT_EQ(max_abs_difference(std::vector<float>{}, std::vector<float>{}), 0.0f);
}

TEST(MaxAbsDifference, NaNIsReportedNotHidden) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // NaN compares false against everything: a plain `if (diff > worst)` would skip it.
  EXPECT_TRUE(std::isnan(max_abs_difference(std::vector<float>{1.0f, nan, 2.0f},
                                            std::vector<float>{1.0f, 1.0f, 2.0f})));
  EXPECT_TRUE(std::isnan(max_abs_difference(std::vector<float>{0.0f, 100.0f, 3.0f},
                                            std::vector<float>{0.0f, 0.0f, nan})));
  EXPECT_TRUE(std::isnan(
      max_abs_difference(std::vector<float>{nan, 5.0f}, std::vector<float>{0.0f, 0.0f})));
}

TEST(MaxAbsDifference, SizeMismatchThrows) {
  EXPECT_THROW(
      max_abs_difference(std::vector<float>{1.0f, 2.0f}, std::vector<float>{1.0f, 2.0f, 3.0f}),
      std::invalid_argument);
}

}  // namespace
}  // namespace distsgd::math
namespace distsgd {

TEST(ElasticExchange, MovesReplicaAndCentreTowardsEachOtherByAlphaTimesTheGap) {
  std::vector<float> x = {1.0f, -2.0f, 4.0f};
  std::vector<float> c = {0.0f, 2.0f, 4.0f};
  math::elastic_exchange(x, c, 0.25f);
  // d = 0.25 * (x - c) = {0.25, -1, 0}
  EXPECT_FLOAT_EQ(x[0], 0.75f);
  EXPECT_FLOAT_EQ(x[1], -1.0f);
  EXPECT_FLOAT_EQ(x[2], 4.0f);
  EXPECT_FLOAT_EQ(c[0], 0.25f);
  EXPECT_FLOAT_EQ(c[1], 1.0f);
  EXPECT_FLOAT_EQ(c[2], 4.0f);
}

TEST(ElasticExchange, ConservesTheSumAndWorkerAndServerCopiesAgree) {
  // The worker applies it to (x, copy of c), the server to (copy of x, c):
  // together they must equal one exchange on (x, c), and x + c is conserved.
  std::vector<float> x = {3.0f, -1.5f, 0.125f, 10.0f};
  std::vector<float> c = {-1.0f, 0.5f, 2.0f, 10.0f};
  auto x_worker = x, c_copy = c, x_copy = x, c_server = c;
  math::elastic_exchange(x_worker, c_copy, 0.45f);
  math::elastic_exchange(x_copy, c_server, 0.45f);
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_FLOAT_EQ(x_worker[i], x[i] - 0.45f * (x[i] - c[i]));
    EXPECT_FLOAT_EQ(c_server[i], c[i] + 0.45f * (x[i] - c[i]));
    EXPECT_NEAR(x_worker[i] + c_server[i], x[i] + c[i], 1e-6);
  }
}

TEST(ElasticExchange, AlphaOneSwapsAndSizeMismatchThrows) {
  std::vector<float> x = {1.0f, 2.0f}, c = {5.0f, 6.0f};
  math::elastic_exchange(x, c, 1.0f);
  EXPECT_EQ(x, (std::vector<float>{5.0f, 6.0f}));
  EXPECT_EQ(c, (std::vector<float>{1.0f, 2.0f}));
  std::vector<float> shorter = {1.0f};
  EXPECT_THROW(math::elastic_exchange(x, shorter, 0.5f), std::invalid_argument);
}

TEST(BalancedRanges, ContiguousCoverWithSizesDifferingByAtMostOne) {
  for (int64_t total : {0, 1, 7, 10, 269322}) {
    for (int parts : {1, 2, 3, 4, 8}) {
      const auto ranges = math::balanced_ranges(total, parts);
      ASSERT_EQ(ranges.size(), static_cast<std::size_t>(parts));
      int64_t next = 0, smallest = total, largest = 0;
      for (const auto& range : ranges) {
        EXPECT_EQ(range.offset, next);
        next += range.size;
        smallest = std::min(smallest, range.size);
        largest = std::max(largest, range.size);
      }
      EXPECT_EQ(next, total);
      EXPECT_LE(largest - smallest, 1);
    }
  }
  EXPECT_EQ(math::balanced_ranges(10, 3), (std::vector<math::Range>{{0, 4}, {4, 3}, {7, 3}}));
  EXPECT_THROW(math::balanced_ranges(10, 0), std::invalid_argument);
}

TEST(AllFinite, FindsANaNOrAnInfinityAnywhere) {
  std::vector<float> x(1000, 1.5f);
  EXPECT_TRUE(math::all_finite(x));
  EXPECT_TRUE(math::all_finite(std::span<const float>()));
  x[999] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(math::all_finite(x));
  x[999] = 2.0f;
  x[0] = -std::numeric_limits<float>::infinity();
  EXPECT_FALSE(math::all_finite(x));
  x[0] = std::numeric_limits<float>::max();  // finite, however large
  EXPECT_TRUE(math::all_finite(x));
}
}  // namespace distsgd
