// Fault injection without a clock: the random delay's draw is a function of
// (seed, rank, step) alone and respects its probability over many steps; the
// faults fall on the rank they name only.
#include <gtest/gtest.h>

#include <set>

#include "core/fault_injection.hpp"

namespace distsgd {
namespace {

TEST(FaultDraw, DeterministicPerSeedRankAndStep) {
  for (int64_t step : {0, 1, 2, 999, 123456})
    EXPECT_EQ(fault_draw(7, 3, step), fault_draw(7, 3, step)) << step;
  // Another seed, rank or step draws another number.
  EXPECT_NE(fault_draw(7, 3, 10), fault_draw(8, 3, 10));
  EXPECT_NE(fault_draw(7, 3, 10), fault_draw(7, 4, 10));
  EXPECT_NE(fault_draw(7, 3, 10), fault_draw(7, 3, 11));
}

TEST(FaultDraw, InTheUnitIntervalAndSpread) {
  std::set<double> seen;
  for (int64_t step = 0; step < 1000; ++step) {
    const double draw = fault_draw(1, 0, step);
    ASSERT_GE(draw, 0.0);
    ASSERT_LT(draw, 1.0);
    seen.insert(draw);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(FaultInjection, RandomDelayRespectsItsProbability) {
  TrainConfig config;
  config.straggler_random = "0.25:40";
  for (int rank : {0, 1, 5}) {
    const FaultInjection faults(config, rank);
    constexpr int kSteps = 40000;
    int delayed = 0;
    for (int64_t step = 0; step < kSteps; ++step) {
      const double delay = faults.delay_s(step, 0.010);
      ASSERT_TRUE(delay == 0.0 || delay == 0.040) << delay;
      delayed += delay > 0;
    }
    EXPECT_NEAR(static_cast<double>(delayed) / kSteps, 0.25, 0.01) << "rank " << rank;
  }
}

TEST(FaultInjection, TwoRunsDrawTheSameDelays) {
  // A resumed run draws the delays an uninterrupted one would have.
  TrainConfig config;
  config.straggler_random = "0.5:10";
  config.seed = 42;
  const FaultInjection first(config, 2), second(config, 2);
  for (int64_t step = 0; step < 500; ++step)
    ASSERT_EQ(first.delay_s(step, 0.0), second.delay_s(step, 0.0)) << step;
}

TEST(FaultInjection, ProbabilityZeroAndOne) {
  TrainConfig config;
  config.straggler_random = "0:100";
  const FaultInjection never(config, 0);
  config.straggler_random = "1:100";
  const FaultInjection always(config, 0);
  for (int64_t step = 0; step < 1000; ++step) {
    ASSERT_EQ(never.delay_s(step, 0.0), 0.0);
    ASSERT_EQ(always.delay_s(step, 0.0), 0.1);
  }
}

TEST(FaultInjection, StragglerSlowsItsRankOnly) {
  TrainConfig config;
  config.straggler = "1:3";
  EXPECT_DOUBLE_EQ(FaultInjection(config, 1).delay_s(0, 0.02), 0.04);  // (3 - 1) * 0.02
  EXPECT_EQ(FaultInjection(config, 0).delay_s(0, 0.02), 0.0);
}

TEST(FaultInjection, NanAndLeaveEarlyFallOnTheirRank) {
  TrainConfig config;
  config.inject_nan = "1:5";
  config.leave_early = "2:30";
  const FaultInjection rank0(config, 0), rank1(config, 1), rank2(config, 2);
  EXPECT_TRUE(rank1.nan_at(5));
  EXPECT_FALSE(rank1.nan_at(4));
  EXPECT_FALSE(rank0.nan_at(5));
  EXPECT_EQ(rank2.steps_to_run(100), 30);
  EXPECT_EQ(rank2.steps_to_run(20), 20);
  EXPECT_EQ(rank0.steps_to_run(100), 100);
}

TEST(FaultInjection, NoFaultsNoDelay) {
  const FaultInjection none(TrainConfig{}, 0);
  EXPECT_EQ(none.delay_s(3, 1.0), 0.0);
  EXPECT_FALSE(none.nan_at(0));
  EXPECT_EQ(none.injected_s(), 0.0);
}

}  // namespace
}  // namespace distsgd
