// The schedule of the hybrids (methods/periodic_average.hpp): when local SGD
// averages and when gossip-pga's global average is due.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "methods/gossip_core.hpp"
#include "methods/periodic_average.hpp"

namespace distsgd::hybrid {
namespace {

TEST(LocalSgdSchedule, AveragesEveryLocalStepsLocalSteps) {
  LocalSgdSchedule schedule(4, 0);
  std::vector<int> averaged_after;
  for (int step = 1; step <= 12; ++step)
    if (schedule.local_step_done()) averaged_after.push_back(step);
  EXPECT_EQ(averaged_after, (std::vector<int>{4, 8, 12}));
}

TEST(LocalSgdSchedule, OneLocalStepAveragesEveryStep) {
  LocalSgdSchedule schedule(1, 0);
  for (int step = 0; step < 5; ++step) EXPECT_TRUE(schedule.local_step_done());
}

TEST(LocalSgdSchedule, SynchronousForThePostLocalEpochsOnly) {
  LocalSgdSchedule schedule(8, 2);
  EXPECT_TRUE(schedule.synchronous(0));
  EXPECT_TRUE(schedule.synchronous(1));
  EXPECT_FALSE(schedule.synchronous(2));
  EXPECT_FALSE(LocalSgdSchedule(8, 0).synchronous(0));
}

TEST(LocalSgdSchedule, AnAverageForAnotherReasonRestartsTheCount) {
  LocalSgdSchedule schedule(3, 0);
  EXPECT_FALSE(schedule.local_step_done());
  EXPECT_FALSE(schedule.local_step_done());
  schedule.averaged();  // a checkpoint made the replicas whole
  EXPECT_EQ(schedule.since_average(), 0);
  EXPECT_FALSE(schedule.local_step_done());
  EXPECT_FALSE(schedule.local_step_done());
  EXPECT_TRUE(schedule.local_step_done());
}

TEST(LocalSgdSchedule, RefusesImpossibleSettings) {
  EXPECT_THROW(LocalSgdSchedule(0, 0), std::invalid_argument);
  EXPECT_THROW(LocalSgdSchedule(2, -1), std::invalid_argument);
}

TEST(GlobalAverage, DueAfterEveryGlobalEveryStepsCountedOverTheRun) {
  std::vector<int64_t> due;
  for (int64_t step = 0; step < 24; ++step)
    if (global_average_due(step, 8)) due.push_back(step);
  EXPECT_EQ(due, (std::vector<int64_t>{7, 15, 23}));
  EXPECT_FALSE(global_average_due(7, 0));  // plain gossip never averages
}

TEST(GossipModeFor, NamesTheModeOfEachGossipMethod) {
  TrainConfig config;
  config.algo = "gossip-pull";
  EXPECT_EQ(gossip::mode_for(config), gossip::Mode::pull);
  config.algo = "gossip-push";
  EXPECT_EQ(gossip::mode_for(config), gossip::Mode::push_sum);
  config.push_mode = "average";
  EXPECT_EQ(gossip::mode_for(config), gossip::Mode::push_average);
  config.algo = "gossip-pga";
  EXPECT_EQ(gossip::mode_for(config), gossip::Mode::pull);  // --gossip-mode pull, the default
  config.gossip_mode = "push";
  EXPECT_EQ(gossip::mode_for(config), gossip::Mode::push_average);
  config.push_mode = "sum";
  EXPECT_EQ(gossip::mode_for(config), gossip::Mode::push_sum);
}

}  // namespace
}  // namespace distsgd::hybrid
