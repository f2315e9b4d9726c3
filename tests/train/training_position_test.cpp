// The training position: its JSON is the checkpoint header's (round trip,
// the keys, older checkpoints without skipped_steps), and the rescale to
// another number of steps per epoch is a pure function of the saved position.
#include <gtest/gtest.h>

#include "train/training_position.hpp"

namespace distsgd {
namespace {

TrainingPosition some_position() {
  TrainingPosition p;
  p.step = 137;
  p.epoch = 4;
  p.samples = 137 * 64;
  p.train_time_s = 12.5;
  p.eval_time_s = 1.25;
  p.best_test_accuracy = 0.875;
  p.time_to_target_s = 9.75;
  p.epochs_to_target = 3.5;
  p.skipped_steps = 2;
  return p;
}

TEST(TrainingPosition, JsonRoundTrip) {
  const auto p = some_position();
  EXPECT_EQ(position_from_json(to_json(p)), p);
  const TrainingPosition fresh;
  EXPECT_EQ(position_from_json(to_json(fresh)), fresh);
}

TEST(TrainingPosition, KeysAreTheCheckpointHeaders) {
  const auto json = to_json(some_position());
  for (const char* key : {"step", "epoch", "samples", "train_time_s", "eval_time_s",
                          "best_test_accuracy", "time_to_target_s", "epochs_to_target",
                          "skipped_steps"})
    EXPECT_TRUE(json.contains(key)) << key;
  EXPECT_EQ(json.size(), 9u);
  EXPECT_EQ(json.at("step"), 137);
  EXPECT_EQ(json.at("time_to_target_s"), 9.75);
}

TEST(TrainingPosition, TargetNotReachedIsNull) {
  TrainingPosition p = some_position();
  p.time_to_target_s.reset();
  p.epochs_to_target.reset();
  const auto json = to_json(p);
  EXPECT_TRUE(json.at("time_to_target_s").is_null());
  EXPECT_TRUE(json.at("epochs_to_target").is_null());
  EXPECT_EQ(position_from_json(json), p);
}

TEST(TrainingPosition, OlderCheckpointsWithoutSkippedStepsRead) {
  auto json = to_json(some_position());
  json.erase("skipped_steps");
  EXPECT_EQ(position_from_json(json).skipped_steps, 0);
}

TEST(TrainingPosition, AMissingKeyThrows) {
  auto json = to_json(some_position());
  json.erase("samples");
  EXPECT_THROW(position_from_json(json), nlohmann::json::exception);
}

TEST(TrainingPositionRescale, SameCountIsTheIdentity) {
  const auto p = some_position();
  for (int64_t per_epoch : {1, 7, 30, 34, 1000}) {
    TrainingPosition at = p;
    at.epoch = 3;
    at.step = 3 * per_epoch + per_epoch / 3;
    EXPECT_EQ(rescale(at, per_epoch, per_epoch), at) << per_epoch;
  }
}

TEST(TrainingPositionRescale, KeepsTheFractionOfTheEpoch) {
  TrainingPosition p = some_position();
  // Epoch 2 of 100 steps, half done (step 250): on a job of 40 steps an
  // epoch, half of epoch 2 is step 100.
  p.epoch = 2;
  p.step = 250;
  const auto moved = rescale(p, 100, 40);
  EXPECT_EQ(moved.step, 100);
  EXPECT_EQ(moved.epoch, 2);
  // Only the step moves.
  TrainingPosition expected = p;
  expected.step = 100;
  EXPECT_EQ(moved, expected);
  // Twice the workers: half the steps an epoch; back: the same step.
  EXPECT_EQ(rescale(rescale(p, 100, 50), 50, 100).step, 250);
}

TEST(TrainingPositionRescale, RoundsToTheNearestStep) {
  TrainingPosition p;
  p.epoch = 1;
  p.step = 10 + 1;  // 1/10 of epoch 1
  EXPECT_EQ(rescale(p, 10, 4).step, 4 + 0);   // 0.4 -> 0
  p.step = 10 + 2;                            // 2/10
  EXPECT_EQ(rescale(p, 10, 4).step, 4 + 1);   // 0.8 -> 1
  p.step = 10 + 5;                            // 5/10
  EXPECT_EQ(rescale(p, 10, 3).step, 3 + 2);   // 1.5 -> 2 (half away from zero)
  p.step = 10 + 7;                            // 7/10
  EXPECT_EQ(rescale(p, 10, 3).step, 3 + 2);   // 2.1 -> 2
}

TEST(TrainingPositionRescale, AnEpochEndStaysAnEpochEnd) {
  TrainingPosition p;
  p.epoch = 5;
  p.step = 5 * 37;
  EXPECT_EQ(rescale(p, 37, 11).step, 5 * 11);
  EXPECT_EQ(rescale(p, 37, 1).step, 5);
}

}  // namespace
}  // namespace distsgd
