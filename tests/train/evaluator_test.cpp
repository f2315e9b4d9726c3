// The evaluator's pieces without a model: the scoped swap of the evaluated
// parameters (the replica's own come back, by an exception too) and the
// bookkeeping of best accuracy and time to target.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "train/evaluator.hpp"

namespace distsgd {
namespace {

TEST(ScopedSwap, SwapsInAndRestores) {
  std::vector<float> params = {1, 2, 3}, buffers = {4, 5}, grads = {9, 9, 9};
  std::vector<float> eval_params = {10, 20, 30}, eval_buffers = {40, 50};
  const ReplicaView replica{params, grads, buffers, {}};
  {
    ScopedSwap swap(replica, {eval_params, {}, eval_buffers, {}});
    EXPECT_EQ(params, eval_params);
    EXPECT_EQ(buffers, eval_buffers);
  }
  EXPECT_EQ(params, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(buffers, (std::vector<float>{4, 5}));
  EXPECT_EQ(grads, (std::vector<float>{9, 9, 9}));  // untouched
}

TEST(ScopedSwap, RestoresOnAnException) {
  std::vector<float> params = {1, 2}, buffers;
  std::vector<float> other = {7, 8};
  const ReplicaView replica{params, {}, buffers, {}};
  try {
    ScopedSwap swap(replica, {other, {}, {}, {}});
    throw std::runtime_error("evaluation failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(params, (std::vector<float>{1, 2}));
}

TEST(ScopedSwap, SaveOnlyRestoresWhatTheCallerWrote) {
  std::vector<float> params = {1, 2}, buffers = {3};
  const ReplicaView replica{params, {}, buffers, {}};
  {
    ScopedSwap swap(replica);
    params = {5, 6};  // e.g. worker 0's parameters, broadcast
    buffers = {7};
  }
  EXPECT_EQ(params, (std::vector<float>{1, 2}));
  EXPECT_EQ(buffers, (std::vector<float>{3}));
}

TEST(RecordAccuracy, BestAndFirstTimeToTarget) {
  TrainingPosition position;
  position.step = 50;
  record_accuracy(position, 0.6, 10.0, 0.8, 20);
  EXPECT_EQ(position.best_test_accuracy, 0.6);
  EXPECT_FALSE(position.time_to_target_s);
  position.step = 100;
  record_accuracy(position, 0.85, 20.0, 0.8, 20);
  EXPECT_EQ(position.best_test_accuracy, 0.85);
  ASSERT_TRUE(position.time_to_target_s);
  EXPECT_EQ(*position.time_to_target_s, 20.0);
  EXPECT_EQ(*position.epochs_to_target, 5.0);
  // Reached once: a later evaluation keeps the first time; a lower one the best.
  position.step = 120;
  record_accuracy(position, 0.82, 25.0, 0.8, 20);
  EXPECT_EQ(*position.time_to_target_s, 20.0);
  EXPECT_EQ(position.best_test_accuracy, 0.85);
}

TEST(RecordAccuracy, NoTargetNoTime) {
  TrainingPosition position;
  record_accuracy(position, 1.0, 3.0, std::nullopt, 10);
  EXPECT_FALSE(position.time_to_target_s);
  EXPECT_FALSE(position.epochs_to_target);
}

}  // namespace
}  // namespace distsgd
