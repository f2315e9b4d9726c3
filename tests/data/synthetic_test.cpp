#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <set>

#include "core/errors.hpp"
#include "data/synthetic.hpp"
#include "data/uint8_dataset.hpp"

namespace distsgd::data {
namespace {

const std::vector<int64_t> kIndices{0, 1, 2, 77, 1023, 4000, 49999};

TEST(Synthetic, CifarShape) {
  const Datasets sets = make_synthetic("cifar", 1);
  EXPECT_EQ(sets.train->size(), 50000);
  EXPECT_EQ(sets.test->size(), 10000);
  EXPECT_EQ(sets.train->num_classes(), 10);
  const Batch b = sets.train->batch(kIndices);
  EXPECT_EQ(b.inputs.sizes(), (std::vector<int64_t>{7, 3, 32, 32}));
  EXPECT_EQ(b.inputs.scalar_type(), torch::kFloat32);
  EXPECT_EQ(b.targets.scalar_type(), torch::kInt64);
  EXPECT_GE(b.targets.min().item<int64_t>(), 0);
  EXPECT_LT(b.targets.max().item<int64_t>(), 10);
}

TEST(Synthetic, ImagenetShape) {
  const Datasets sets = make_synthetic("imagenet", 1);
  EXPECT_EQ(sets.train->size(), 1281167);
  EXPECT_EQ(sets.test->size(), 50000);
  EXPECT_EQ(sets.train->num_classes(), 1000);
  EXPECT_EQ(sets.test->shape().height, 224);
  const Batch b = sets.train->batch(std::vector<int64_t>{0, 1281166});
  EXPECT_EQ(b.inputs.sizes(), (std::vector<int64_t>{2, 3, 224, 224}));
  // Labels spread over the 1000 classes.
  const auto pool = dynamic_cast<const Uint8Dataset&>(*sets.train).samples().labels;
  EXPECT_GT(std::set<int64_t>(pool.begin(), pool.end()).size(), 150u);
  EXPECT_LT(*std::max_element(pool.begin(), pool.end()), 1000);
}

TEST(Synthetic, DeterministicFromSeed) {
  const Datasets a = make_synthetic("cifar", 7);
  const Datasets b = make_synthetic("cifar", 7);
  const Datasets c = make_synthetic("cifar", 8);
  EXPECT_TRUE(torch::equal(a.train->batch(kIndices).inputs, b.train->batch(kIndices).inputs));
  EXPECT_TRUE(torch::equal(a.train->batch(kIndices).targets, b.train->batch(kIndices).targets));
  EXPECT_FALSE(torch::equal(a.train->batch(kIndices).inputs, c.train->batch(kIndices).inputs));
  // The test part is its own data, not a copy of the training pool.
  const std::vector<int64_t> first{0, 1, 2};
  EXPECT_FALSE(torch::equal(a.train->batch(first).inputs, a.test->batch(first).inputs));
}

TEST(Synthetic, VirtualIndicesRepeatThePool) {
  const Datasets sets = make_synthetic("cifar", 3);
  const int64_t pool = dynamic_cast<const Uint8Dataset&>(*sets.train).samples().count();
  ASSERT_LT(pool, 50000);
  const Batch b = sets.train->batch(std::vector<int64_t>{5, 5 + pool, 5 + 3 * pool, 6});
  EXPECT_TRUE(torch::equal(b.inputs[0], b.inputs[1]));
  EXPECT_TRUE(torch::equal(b.inputs[0], b.inputs[2]));
  EXPECT_FALSE(torch::equal(b.inputs[0], b.inputs[3]));
  EXPECT_EQ(b.targets[0].item<int64_t>(), b.targets[2].item<int64_t>());
}

TEST(Synthetic, NormalisedLikeRealData) {
  const Datasets sets = make_synthetic("cifar", 11);
  std::vector<int64_t> all(1024);
  for (int64_t i = 0; i < 1024; ++i) all[i] = i;
  const auto x = sets.train->batch(all).inputs;
  EXPECT_NEAR(x.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(x.std().item<double>(), 1.0, 0.01);
}

TEST(Synthetic, UnknownShapeIsConfigError) {
  try {
    make_synthetic("mnist", 1);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("mnist"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("imagenet"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), 2);
  }
}

}  // namespace
}  // namespace distsgd::data
