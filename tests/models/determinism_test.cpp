// Weights are a function of the seed alone: every rank must be able to build
// the same initial model without communicating.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/model.hpp"
#include "models/model_test_util.hpp"

namespace distsgd::models {
namespace {

std::vector<torch::Tensor> initial_parameters(const std::string& name, uint64_t seed) {
  torch::manual_seed(seed);
  // Small inputs keep the resnets cheap; their init does not depend on them beyond the stem.
  auto model =
      make_model(name, name == "mlp" || name == "cnn" ? test_util::kMnist : test_util::kCifar, 10);
  std::vector<torch::Tensor> out;
  for (const auto& p : model->parameters()) out.push_back(p.detach().clone());
  return out;
}

class Determinism : public ::testing::TestWithParam<std::string> {};

TEST_P(Determinism, SameSeedSameParameters) {
  auto a = initial_parameters(GetParam(), 42);
  auto b = initial_parameters(GetParam(), 42);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
}

TEST_P(Determinism, DifferentSeedDifferentWeights) {
  auto a = initial_parameters(GetParam(), 42);
  auto b = initial_parameters(GetParam(), 43);
  ASSERT_EQ(a.size(), b.size());
  // Every randomly drawn tensor (the conv and linear weights, the 2-D and 4-D
  // ones) must change; biases and batch norm are constants.
  int random_tensors = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].dim() < 2) continue;
    ++random_tensors;
    EXPECT_FALSE(torch::equal(a[i], b[i])) << "parameter " << i;
  }
  EXPECT_GT(random_tensors, 0);
}

INSTANTIATE_TEST_SUITE_P(AllModels, Determinism,
                         ::testing::Values("mlp", "cnn", "resnet20", "resnet18", "resnet50"));

}  // namespace
}  // namespace distsgd::models
