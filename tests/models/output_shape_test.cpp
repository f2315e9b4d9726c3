// Every model maps a float NCHW batch to [batch, num_classes] logits, for the
// input shapes the data sets produce.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <tuple>

#include "models/model.hpp"
#include "models/model_test_util.hpp"

namespace distsgd::models {
namespace {

struct Case {
  std::string model;
  data::SampleShape shape;
  int64_t classes;
  int64_t batch;
};

class OutputShape : public ::testing::TestWithParam<Case> {};

TEST_P(OutputShape, IsBatchByClasses) {
  const Case& c = GetParam();
  torch::manual_seed(0);
  auto model = make_model(c.model, c.shape, c.classes);
  model->eval();
  torch::NoGradGuard no_grad;
  auto logits =
      model->forward(torch::randn({c.batch, c.shape.channels, c.shape.height, c.shape.width}));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{c.batch, c.classes}));
  EXPECT_EQ(logits.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
}

INSTANTIATE_TEST_SUITE_P(
    AllModels, OutputShape,
    ::testing::Values(Case{"mlp", test_util::kMnist, 10, 4}, Case{"mlp", test_util::kCifar, 7, 3},
                      Case{"cnn", test_util::kMnist, 10, 4}, Case{"cnn", test_util::kCifar, 10, 2},
                      Case{"cnn", {1, 10, 12}, 3, 2}, Case{"resnet20", test_util::kCifar, 10, 4},
                      Case{"resnet20", test_util::kMnist, 10, 3},
                      Case{"resnet20", {3, 17, 23}, 5, 2},
                      Case{"resnet18", test_util::kCifar, 10, 2},
                      Case{"resnet18", test_util::kMnist, 10, 2},
                      Case{"resnet18", test_util::kImageNet, 1000, 1},
                      Case{"resnet50", test_util::kCifar, 10, 2},
                      Case{"resnet50", test_util::kImageNet, 1000, 2}),
    [](const ::testing::TestParamInfo<Case>& info) {
      const Case& c = info.param;
      return c.model + "_" + std::to_string(c.shape.channels) + "x" +
             std::to_string(c.shape.height) + "x" + std::to_string(c.shape.width) + "_" +
             std::to_string(c.classes);
    });

TEST(OutputShapeCheck, LogitsDependOnTheInput) {
  // A forward that ignored its input (a broken flatten or view) would give the
  // same logits for every sample.
  torch::manual_seed(0);
  auto model = make_model("cnn", test_util::kMnist, 10);
  torch::NoGradGuard no_grad;
  auto logits = model->forward(torch::randn({2, 1, 28, 28}));
  EXPECT_FALSE(torch::allclose(logits[0], logits[1]));
}

}  // namespace
}  // namespace distsgd::models
