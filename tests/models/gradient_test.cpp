// One backward pass reaches every parameter: a layer registered but left out
// of forward(), or a detached path, would show up as a missing gradient.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "models/model.hpp"
#include "models/model_test_util.hpp"

namespace distsgd::models {
namespace {

struct Case {
  std::string model;
  data::SampleShape shape;
  int64_t batch = 8;
};

class Gradients : public ::testing::TestWithParam<Case> {};

TEST_P(Gradients, EveryParameterGetsANonZeroGradient) {
  const Case& c = GetParam();
  torch::manual_seed(1);
  auto model = make_model(c.model, c.shape, 10);
  model->train();
  auto inputs = torch::randn({c.batch, c.shape.channels, c.shape.height, c.shape.width});
  auto targets = torch::randint(0, 10, {c.batch}, torch::kLong);
  torch::nn::functional::cross_entropy(model->forward(inputs), targets).backward();
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    const torch::Tensor& p = item.value();
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>()) << name;
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllModels, Gradients,
    ::testing::Values(Case{"mlp", test_util::kMnist}, Case{"cnn", test_util::kMnist},
                      Case{"resnet20", test_util::kCifar}, Case{"resnet18", test_util::kCifar},
                      // Batch 2 keeps resnet50's backward cheap; its last batch norms
                      // still see 2 x 4x4 values per channel.
                      Case{"resnet50", test_util::kCifar, 2}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.model; });

}  // namespace
}  // namespace distsgd::models
