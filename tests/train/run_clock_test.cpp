// The run clock's buckets: a pause counts in its own bucket only, and neither
// counts as training. (Only exact zeros and orderings are asserted, never a
// duration.)
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "train/run_clock.hpp"

namespace distsgd {
namespace {

void pause_a_little() { std::this_thread::sleep_for(std::chrono::milliseconds(5)); }

TEST(RunClock, CheckpointTimeIsNotEvaluationTime) {
  RunClock clock;
  clock.start();
  {
    auto pause = clock.pause_for_checkpoint();
    pause_a_little();
    EXPECT_GT(clock.checkpoint_s(), 0.0);  // counted while it runs
  }
  EXPECT_EQ(clock.eval_s(), 0.0);
  const double checkpoint_s = clock.checkpoint_s();
  EXPECT_GT(checkpoint_s, 0.0);
  {
    auto pause = clock.pause_for_evaluation();
    pause_a_little();
  }
  EXPECT_GT(clock.eval_s(), 0.0);
  EXPECT_EQ(clock.checkpoint_s(), checkpoint_s);
  // Training is what is left of the wall time.
  const double wall = clock.wall_s();
  EXPECT_LE(clock.train_s() + clock.eval_s() + clock.checkpoint_s(), wall + 1e-6);
  EXPECT_GE(clock.train_s(), 0.0);
}

TEST(RunClock, ResumedClocksContinue) {
  RunClock clock;
  clock.resume_from(100.0, 10.0);
  clock.start();
  EXPECT_GE(clock.train_s(), 100.0);
  EXPECT_EQ(clock.eval_s(), 10.0);
  EXPECT_EQ(clock.checkpoint_s(), 0.0);  // checkpoints do not record it
  {
    auto pause = clock.pause_for_checkpoint();
    pause_a_little();
  }
  EXPECT_EQ(clock.eval_s(), 10.0);
}

}  // namespace
}  // namespace distsgd
