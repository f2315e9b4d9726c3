// The factory: names, errors, and the structure callers rely on (parameter
// order, initialisation).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "models/basic_block.hpp"
#include "models/model.hpp"
#include "models/model_test_util.hpp"

namespace distsgd::models {
namespace {

std::vector<std::string> parameter_names(const Model& model) {
  std::vector<std::string> names;
  for (const auto& item : model.named_parameters()) names.push_back(item.key());
  return names;
}

TEST(ModelNames, ListsTheFourModels) {
  EXPECT_EQ(model_names(), (std::vector<std::string>{"mlp", "cnn", "resnet20", "resnet18"}));
}

TEST(MakeModel, EveryListedNameBuilds) {
  for (const auto& name : model_names()) {
    EXPECT_NE(make_model(name, test_util::kCifar, 10), nullptr) << name;
  }
}

TEST(MakeModel, UnknownNameThrowsConfigErrorListingTheNames) {
  try {
    make_model("vgg16", test_util::kMnist, 10);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("vgg16"), std::string::npos) << what;
    for (const auto& name : model_names()) EXPECT_NE(what.find(name), std::string::npos) << what;
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST(MakeModel, CnnRejectsInputsTooSmallForItsPools) {
  EXPECT_THROW(make_model("cnn", {1, 9, 28}, 10), ConfigError);
  EXPECT_THROW(make_model("cnn", {1, 28, 9}, 10), ConfigError);
  EXPECT_NO_THROW(make_model("cnn", {1, 10, 10}, 10));
}

TEST(MakeModel, RejectsEmptyShapesAndTooFewClasses) {
  EXPECT_THROW(make_model("mlp", {0, 28, 28}, 10), ConfigError);
  EXPECT_THROW(make_model("resnet20", {3, 0, 32}, 10), ConfigError);
  EXPECT_THROW(make_model("resnet18", {3, 32, -1}, 10), ConfigError);
  EXPECT_THROW(make_model("mlp", test_util::kMnist, 1), ConfigError);
}

TEST(MakeModel, ParametersFollowForwardOrder) {
  // Gradient buckets are formed in parameters() order, so it must be the
  // layer order.
  EXPECT_EQ(parameter_names(*make_model("cnn", test_util::kMnist, 10)),
            (std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                      "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  const auto resnet = parameter_names(*make_model("resnet18", test_util::kCifar, 10));
  ASSERT_FALSE(resnet.empty());
  EXPECT_EQ(resnet.front(), "conv1.weight");
  EXPECT_EQ(resnet.back(), "fc.bias");
  EXPECT_EQ(resnet[3], "layer1.0.conv1.weight");
}

TEST(MakeModel, ResNet18HasTorchvisionProjectionShortcuts) {
  const auto names = parameter_names(*make_model("resnet18", test_util::kImageNet, 1000));
  auto has = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  EXPECT_FALSE(has("layer1.0.downsample.0.weight"));  // same shape: identity
  EXPECT_TRUE(has("layer2.0.downsample.0.weight"));   // 1x1 conv
  EXPECT_TRUE(has("layer2.0.downsample.1.weight"));   // its batch norm
  EXPECT_FALSE(has("layer2.1.downsample.0.weight"));
}

TEST(Initialisation, KaimingScalesAndConstants) {
  torch::manual_seed(3);
  auto model = make_model("resnet18", test_util::kCifar, 10);
  auto params = model->named_parameters();
  // Conv: kaiming_normal_(fan_out, relu): std sqrt(2 / (512 * 3 * 3)).
  const auto conv = params["layer4.1.conv2.weight"];
  EXPECT_NEAR(conv.std().item<double>(), std::sqrt(2.0 / (512 * 9)), 0.02 * std::sqrt(2.0 / 4608));
  EXPECT_NEAR(conv.mean().item<double>(), 0.0, 1e-3);
  // Linear: kaiming_uniform_(fan_in, relu): U(-b, b), b = sqrt(6 / 512).
  const auto fc = params["fc.weight"];
  const double bound = std::sqrt(6.0 / 512);
  EXPECT_LE(fc.abs().max().item<double>(), bound);
  EXPECT_NEAR(fc.std().item<double>(), bound / std::sqrt(3.0), 0.1 * bound);
  EXPECT_EQ(params["fc.bias"].abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(torch::equal(params["bn1.weight"], torch::ones({64})));
  EXPECT_TRUE(torch::equal(params["bn1.bias"], torch::zeros({64})));
}

TEST(Initialisation, ZeroPadShortcutKeepsIdentityChannels) {
  // resnet20's shortcut (option A) adds no parameters and passes x through:
  // with the residual branch's last batch norm zeroed, a downsampling block
  // returns relu(x subsampled, zero padded in channels).
  torch::manual_seed(0);
  auto model = make_model("resnet20", test_util::kCifar, 10);
  auto params = model->named_parameters();
  EXPECT_EQ(params.find("layer2.0.downsample.0.weight"), nullptr);
  auto modules = model->named_modules();
  auto block = modules["layer2.0"];
  ASSERT_NE(block, nullptr);
  {
    torch::NoGradGuard no_grad;
    params["layer2.0.bn2.weight"].zero_();
    params["layer2.0.bn2.bias"].zero_();
  }
  block->eval();
  auto x = torch::rand({1, 16, 8, 8});
  auto y = block->as<BasicBlock>()->forward(x);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{1, 32, 4, 4}));
  auto sub = x.slice(2, 0, 8, 2).slice(3, 0, 8, 2);
  EXPECT_TRUE(torch::allclose(y.slice(1, 8, 24), sub));
  EXPECT_EQ(y.slice(1, 0, 8).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(y.slice(1, 24, 32).abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace distsgd::models
