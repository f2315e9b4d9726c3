// The real Fashion-MNIST shipped on this machine, through load_datasets.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <numeric>

#include "data/dataset.hpp"

namespace distsgd::data {
namespace {

constexpr const char* kDir = "/usr/share/datasets/fashion-mnist";

class FashionMnist : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kDir)) return;
    const auto start = std::chrono::steady_clock::now();
    sets_ = new Datasets(load_datasets(DataOptions{}));  // fashion-mnist is the default
    load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  static void TearDownTestSuite() {
    delete sets_;
    sets_ = nullptr;
  }
  void SetUp() override {
    if (sets_ == nullptr) GTEST_SKIP() << kDir << " is not installed";
  }

  static Datasets* sets_;
  static double load_seconds_;
};

Datasets* FashionMnist::sets_ = nullptr;
double FashionMnist::load_seconds_ = 0;

std::vector<int64_t> iota(int64_t n, int64_t first = 0) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST_F(FashionMnist, SizesAndShape) {
  EXPECT_EQ(sets_->train->size(), 60000);
  EXPECT_EQ(sets_->test->size(), 10000);
  for (const Dataset* d : {sets_->train.get(), sets_->test.get()}) {
    EXPECT_EQ(d->shape().channels, 1);
    EXPECT_EQ(d->shape().height, 28);
    EXPECT_EQ(d->shape().width, 28);
    EXPECT_EQ(d->num_classes(), 10);
  }
}

TEST_F(FashionMnist, ClassesAreBalanced) {
  // Fashion-MNIST has exactly 6000 training and 1000 test images per class.
  const auto train = sets_->train->batch(iota(60000)).targets;
  const auto test = sets_->test->batch(iota(10000)).targets;
  EXPECT_EQ(train.min().item<int64_t>(), 0);
  EXPECT_EQ(train.max().item<int64_t>(), 9);
  EXPECT_TRUE(torch::equal(torch::bincount(train), torch::full({10}, 6000, torch::kInt64)));
  EXPECT_TRUE(torch::equal(torch::bincount(test), torch::full({10}, 1000, torch::kInt64)));
}

TEST_F(FashionMnist, BatchShapesAndTypes) {
  const std::vector<int64_t> indices{5, 0, 59999, 123};
  const Batch b = sets_->train->batch(indices);
  EXPECT_EQ(b.inputs.sizes(), (std::vector<int64_t>{4, 1, 28, 28}));
  EXPECT_EQ(b.inputs.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(b.inputs.is_contiguous());
  EXPECT_EQ(b.targets.sizes(), (std::vector<int64_t>{4}));
  EXPECT_EQ(b.targets.scalar_type(), torch::kInt64);
  // The first training label of Fashion-MNIST is 9 (ankle boot), the second 0.
  EXPECT_EQ(sets_->train->batch(std::vector<int64_t>{0, 1}).targets[0].item<int64_t>(), 9);
  EXPECT_EQ(sets_->train->batch(std::vector<int64_t>{0, 1}).targets[1].item<int64_t>(), 0);
  // Gathering is per index: sample 0 in a batch equals sample 0 alone.
  EXPECT_TRUE(torch::equal(b.inputs[1], sets_->train->batch(std::vector<int64_t>{0}).inputs[0]));
  EXPECT_THROW(sets_->train->batch(std::vector<int64_t>{60000}), std::out_of_range);
}

TEST_F(FashionMnist, NormalisedRoughlyZeroMeanUnitStd) {
  const auto x = sets_->train->batch(iota(60000)).inputs;
  EXPECT_NEAR(x.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(x.std().item<double>(), 1.0, 0.02);
  // Pixel 0 maps to -mean/std and 255 to (1-mean)/std.
  EXPECT_NEAR(x.min().item<double>(), -0.2860 / 0.3530, 1e-5);
  EXPECT_NEAR(x.max().item<double>(), (1 - 0.2860) / 0.3530, 1e-5);
}

TEST_F(FashionMnist, AugmentSeedIsIgnored) {
  const std::vector<int64_t> indices{1, 2, 3};
  EXPECT_TRUE(
      torch::equal(sets_->train->batch(indices, 7).inputs, sets_->train->batch(indices).inputs));
}

TEST_F(FashionMnist, RepeatedBatchesAreIdentical) {
  // A batch is a function of its indices only: the 200th gather of the same
  // indices equals the first. The times are recorded for the XML report, not
  // asserted (the machine is shared; the design target is well under 1 ms a
  // batch of 64 and a few seconds to load).
  const auto indices = iota(64, 1000);
  constexpr int kReps = 200;
  const Batch first = sets_->train->batch(indices);
  const auto start = std::chrono::steady_clock::now();
  Batch last;
  for (int i = 0; i < kReps; ++i) last = sets_->train->batch(indices);
  const double per_batch_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
      kReps;
  RecordProperty("batch64_ms", std::to_string(per_batch_ms));
  RecordProperty("load_s", std::to_string(load_seconds_));
  EXPECT_TRUE(torch::equal(last.inputs, first.inputs));
  EXPECT_TRUE(torch::equal(last.targets, first.targets));
  // (and other indices give another batch)
  EXPECT_FALSE(torch::equal(first.inputs, sets_->train->batch(iota(64, 2000)).inputs));
}

}  // namespace
}  // namespace distsgd::data
