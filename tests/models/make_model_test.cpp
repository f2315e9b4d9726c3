// The factory: names, errors, and the structure callers rely on (parameter
// order, initialisation).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "models/basic_block.hpp"
#include "models/bottleneck_block.hpp"
#include "models/model.hpp"
#include "models/model_test_util.hpp"

namespace distsgd::models {
namespace {

std::vector<std::string> parameter_names(const Model& model) {
  std::vector<std::string> names;
  for (const auto& item : model.named_parameters()) names.push_back(item.key());
  return names;
}

TEST(ModelNames, ListsTheFiveModels) {
  EXPECT_EQ(model_names(),
            (std::vector<std::string>{"mlp", "cnn", "resnet20", "resnet18", "resnet50"}));
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

TEST(MakeModel, ResNet50HasTorchvisionBottlenecks) {
  torch::manual_seed(0);
  auto model = make_model("resnet50", test_util::kImageNet, 1000);
  const auto names = parameter_names(*model);
  auto has = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  EXPECT_EQ(names.front(), "conv1.weight");
  EXPECT_EQ(names.back(), "fc.bias");
  EXPECT_EQ(names[3], "layer1.0.conv1.weight");
  // Each stage's first block projects (layer1's too: 64 -> 256 channels), the
  // others are identities; 3, 4, 6 and 3 blocks.
  const std::pair<int, int> stages[] = {{1, 3}, {2, 4}, {3, 6}, {4, 3}};  // (stage, blocks)
  for (const auto& [stage, blocks] : stages) {
    const std::string prefix = "layer" + std::to_string(stage) + ".";
    EXPECT_TRUE(has(prefix + "0.downsample.0.weight")) << stage;
    EXPECT_TRUE(has(prefix + "0.downsample.1.weight")) << stage;
    EXPECT_FALSE(has(prefix + "1.downsample.0.weight")) << stage;
    EXPECT_TRUE(has(prefix + std::to_string(blocks - 1) + ".bn3.weight")) << stage;
    EXPECT_FALSE(has(prefix + std::to_string(blocks) + ".conv1.weight")) << stage;
  }
  auto params = model->named_parameters();
  // Widths 64..512, expanded 4x by conv3: layer3's blocks are 1024 -> 256 -> 1024.
  EXPECT_EQ(params["layer3.1.conv1.weight"].sizes(), (std::vector<int64_t>{256, 1024, 1, 1}));
  EXPECT_EQ(params["layer3.1.conv2.weight"].sizes(), (std::vector<int64_t>{256, 256, 3, 3}));
  EXPECT_EQ(params["layer3.1.conv3.weight"].sizes(), (std::vector<int64_t>{1024, 256, 1, 1}));
  EXPECT_EQ(params["fc.weight"].sizes(), (std::vector<int64_t>{1000, 2048}));
}

TEST(MakeModel, ResNet50StridesOnThe3x3AsTorchvisionV15) {
  // v1.5: a downsampling block's 1x1 convolutions keep stride 1, its 3x3 and
  // its projection take stride 2 (the paper's v1 strides the first 1x1).
  auto model = make_model("resnet50", test_util::kCifar, 10);
  auto modules = model->named_modules();
  auto stride = [&](const std::string& name) {
    auto module = modules[name];
    EXPECT_NE(module, nullptr) << name;
    return module ? module->as<torch::nn::Conv2d>()->options.stride()->at(0) : -1;
  };
  EXPECT_EQ(stride("layer1.0.conv2"), 1);
  for (const std::string stage : {"layer2", "layer3", "layer4"}) {
    EXPECT_EQ(stride(stage + ".0.conv1"), 1) << stage;
    EXPECT_EQ(stride(stage + ".0.conv2"), 2) << stage;
    EXPECT_EQ(stride(stage + ".0.conv3"), 1) << stage;
    EXPECT_EQ(stride(stage + ".0.downsample.0"), 2) << stage;
    EXPECT_EQ(stride(stage + ".1.conv2"), 1) << stage;
  }
  // And the block really halves the map: 32x32 (CIFAR stem) -> 16x16 at 512.
  model->eval();
  torch::NoGradGuard no_grad;
  auto block = modules["layer2.0"];
  ASSERT_NE(block, nullptr);
  auto y = block->as<Bottleneck>()->forward(torch::randn({1, 256, 32, 32}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 512, 16, 16}));
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

TEST(Initialisation, ResNet50BatchNormsStartAtOneLikeTheOtherBlocks) {
  // No zero-init of the last batch norm of a block (torchvision's
  // zero_init_residual=False default), the same as the basic blocks.
  auto model = make_model("resnet50", test_util::kCifar, 10);
  auto params = model->named_parameters();
  EXPECT_TRUE(torch::equal(params["layer1.0.bn3.weight"], torch::ones({256})));
  EXPECT_TRUE(torch::equal(params["layer4.2.bn3.weight"], torch::ones({2048})));
  EXPECT_TRUE(torch::equal(params["layer4.2.bn3.bias"], torch::zeros({2048})));
  // The 1x1 convolutions are drawn with fan_out too: conv3 of layer4 has
  // fan_out 2048 * 1 * 1.
  const auto conv3 = params["layer4.2.conv3.weight"];
  EXPECT_NEAR(conv3.std().item<double>(), std::sqrt(2.0 / 2048), 0.02 * std::sqrt(2.0 / 2048));
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
