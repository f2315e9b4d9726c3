// RunClock: wall time split into training, evaluation and checkpoint time, and continued
// from a checkpoint's clocks. No upper bound on elapsed time is asserted: every
// check is a relation between the clock's readings and readings of
// steady_clock taken around them (the short sleeps only make intervals nonzero).
#include "train/run_clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace distsgd {
namespace {

using Clock = std::chrono::steady_clock;

// Slack for the rounding of sums of doubles; no time is this short.
constexpr double kRounding = 1e-9;
constexpr auto kNap = std::chrono::milliseconds(20);
constexpr double kNapS = 0.020;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void nap() { std::this_thread::sleep_for(kNap); }

TEST(RunClock, WithoutPausesAllTimeIsTrainingTime) {
  RunClock clock;
  clock.start();
  nap();
  const double wall_before = clock.wall_s();
  const double train = clock.train_s();
  const double wall_after = clock.wall_s();
  EXPECT_EQ(clock.eval_s(), 0.0);
  EXPECT_GE(wall_before, kNapS);
  EXPECT_GE(train, wall_before - kRounding);
  EXPECT_LE(train, wall_after + kRounding);
}

TEST(RunClock, StartRestartsTheWallClock) {
  RunClock clock;  // starts counting when constructed
  nap();
  EXPECT_GE(clock.wall_s(), kNapS);
  const auto before = Clock::now();
  clock.start();
  const double wall = clock.wall_s();
  const auto after = Clock::now();
  // Only the time since start() counts, not the nap before it.
  EXPECT_LE(wall, seconds_between(before, after) + kRounding);
}

TEST(RunClock, EvaluationTimeGrowsOnlyWhilePaused) {
  RunClock clock;
  clock.start();
  nap();
  EXPECT_EQ(clock.eval_s(), 0.0);  // training time does not count as evaluation
  double eval_in_pause = 0.0;
  {
    auto pause = clock.pause_for_evaluation();
    const double first = clock.eval_s();
    nap();
    eval_in_pause = clock.eval_s();
    EXPECT_GE(eval_in_pause, first + kNapS - kRounding);  // it runs during the pause
  }
  const double after_pause = clock.eval_s();
  EXPECT_GE(after_pause, eval_in_pause);
  nap();
  // Stopped: training time since the pause ended adds nothing.
  EXPECT_EQ(clock.eval_s(), after_pause);
}

TEST(RunClock, TrainingTimeStandsStillWhilePaused) {
  RunClock clock;
  clock.start();
  nap();
  const auto outer_start = Clock::now();
  const double train_before = clock.train_s();
  const double eval_before = clock.eval_s();
  {
    auto pause = clock.pause_for_evaluation();
    nap();
    nap();
  }
  const double train_after = clock.train_s();
  const auto outer_end = Clock::now();
  const double paused = clock.eval_s() - eval_before;
  EXPECT_GE(paused, 2 * kNapS);
  // Between the two readings the wall clock advanced by at most the outer
  // interval, and the pause is not training time.
  EXPECT_LE(train_after - train_before,
            seconds_between(outer_start, outer_end) - paused + kRounding);
  // Training resumes after the pause.
  nap();
  EXPECT_GE(clock.train_s(), train_after + kNapS - kRounding);
}

TEST(RunClock, PausesAddUp) {
  RunClock clock;
  clock.start();
  {
    auto pause = clock.pause_for_evaluation();
    nap();
  }
  const double after_one = clock.eval_s();
  EXPECT_GE(after_one, kNapS);
  nap();  // training in between
  {
    auto pause = clock.pause_for_evaluation();
    nap();
  }
  const double after_two = clock.eval_s();
  EXPECT_GE(after_two, after_one + kNapS - kRounding);
  // Wall time is training plus evaluation, whatever the number of pauses.
  const double wall_before = clock.wall_s();
  const double sum = clock.train_s() + clock.eval_s();
  const double wall_after = clock.wall_s();
  EXPECT_GE(sum, wall_before - kRounding);
  EXPECT_LE(sum, wall_after + kRounding);
}

TEST(RunClock, ResumeFromOffsetsTrainAndEvalButNotWall) {
  RunClock clock;
  clock.start();
  clock.resume_from(100.0, 7.0);
  // Evaluation time is the checkpoint's until something is evaluated.
  EXPECT_EQ(clock.eval_s(), 7.0);
  const double wall_before = clock.wall_s();
  const double train = clock.train_s();
  const double wall_after = clock.wall_s();
  // Training time is the checkpoint's plus this run's wall time so far (the
  // wall clock is this run's own: the offsets are not added to it).
  EXPECT_GE(train - 100.0, wall_before - kRounding);
  EXPECT_LE(train - 100.0, wall_after + kRounding);
  {
    auto pause = clock.pause_for_evaluation();
    nap();
    EXPECT_GE(clock.eval_s(), 7.0 + kNapS - kRounding);
  }
  const double eval = clock.eval_s();
  EXPECT_GE(eval, 7.0 + kNapS - kRounding);
  // This run's wall time is its training plus its evaluation beyond the offsets.
  const double wall = clock.wall_s();
  const double sum = (clock.train_s() - 100.0) + (clock.eval_s() - 7.0);
  EXPECT_GE(sum, wall - kRounding);
  EXPECT_LE(sum, clock.wall_s() + kRounding);
}

TEST(RunClock, ResumeFromReplacesEarlierOffsets) {
  RunClock clock;
  clock.start();
  clock.resume_from(50.0, 5.0);
  clock.resume_from(10.0, 2.0);
  EXPECT_EQ(clock.eval_s(), 2.0);  // not 7
  // Training time is 10 plus this run's, not 60 plus it.
  const double wall_before = clock.wall_s();
  const double train = clock.train_s();
  const double wall_after = clock.wall_s();
  EXPECT_GE(train - 10.0, wall_before - kRounding);
  EXPECT_LE(train - 10.0, wall_after + kRounding);
}

TEST(RunClock, CheckpointTimeIsNotEvaluationTime) {
  RunClock clock;
  clock.start();
  {
    auto pause = clock.pause_for_checkpoint();
    nap();
    EXPECT_GT(clock.checkpoint_s(), 0.0);  // counted while it runs
  }
  EXPECT_EQ(clock.eval_s(), 0.0);
  const double checkpoint_s = clock.checkpoint_s();
  EXPECT_GT(checkpoint_s, 0.0);
  {
    auto pause = clock.pause_for_evaluation();
    nap();
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
    nap();
  }
  EXPECT_EQ(clock.eval_s(), 10.0);
}

}  // namespace
}  // namespace distsgd
