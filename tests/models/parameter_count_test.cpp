// Parameter counts pin each architecture down layer by layer: a wrong width, a
// missing bias or an extra layer changes them.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "models/model.hpp"
#include "models/model_test_util.hpp"

namespace distsgd::models {
namespace {

using test_util::kCifar;
using test_util::kImageNet;
using test_util::kMnist;
using test_util::parameter_count;

TEST(ParameterCount, MlpOnMnist) {
  // 784*256+256 + 256*256+256 + 256*10+10
  EXPECT_EQ(parameter_count(*make_model("mlp", kMnist, 10)), 269322);
}

TEST(ParameterCount, MlpInputWidthFollowsShape) {
  // Only the first layer depends on the input: 3072*256 instead of 784*256.
  EXPECT_EQ(parameter_count(*make_model("mlp", kCifar, 10)), 269322 + (3072 - 784) * 256);
}

TEST(ParameterCount, CnnOnMnist) {
  // 1*32*9+32 + 32*64*9+64 + 1600*128+128 + 128*10+10
  EXPECT_EQ(parameter_count(*make_model("cnn", kMnist, 10)), 225034);
}

TEST(ParameterCount, CnnFlatWidthFollowsShape) {
  // 3x32x32: 30 -> 15 -> 13 -> 6, so fc1 takes 64*6*6 = 2304 features.
  const int64_t expected = 3 * 32 * 9 + 32 + 18496 + 2304 * 128 + 128 + 1290;
  EXPECT_EQ(parameter_count(*make_model("cnn", kCifar, 10)), expected);
}

TEST(ParameterCount, ResNet20OnCifar) {
  const int64_t count = parameter_count(*make_model("resnet20", kCifar, 10));
  EXPECT_GE(count, 260000);
  EXPECT_LE(count, 280000);
  // Option A shortcuts carry no parameters; a projection would add some.
  EXPECT_EQ(count, 269722);
}

TEST(ParameterCount, ResNet18OnImageNetMatchesTorchvision) {
  EXPECT_EQ(parameter_count(*make_model("resnet18", kImageNet, 1000)), 11689512);
}

TEST(ParameterCount, ResNet18SmallInputsUseTheCifarStem) {
  // The 7x7 stem (3*64*49) is replaced by a 3x3 one (3*64*9); the head has 10
  // outputs instead of 1000.
  const int64_t expected = 11689512 - 3 * 64 * 49 + 3 * 64 * 9 - 990 * 512 - 990;
  EXPECT_EQ(parameter_count(*make_model("resnet18", kCifar, 10)), expected);
}

TEST(ParameterCount, ResNet50OnImageNetMatchesTorchvision) {
  // torchvision.models.resnet50(): sum(p.numel() for p in m.parameters()).
  EXPECT_EQ(parameter_count(*make_model("resnet50", kImageNet, 1000)), 25557032);
}

TEST(ParameterCount, ResNet50BatchNormBuffersMatchTorchvision) {
  // 53 batch norms (the stem's, three per block over 3+4+6+3 blocks, one per
  // stage's projection) over 64 + 1408 + 3584 + 10240 + 11264 = 26,560
  // channels. Each holds running_mean and running_var (one float a channel)
  // and num_batches_tracked (one scalar), as in torchvision's state_dict.
  auto model = make_model("resnet50", kImageNet, 1000);
  int64_t buffers = 0;
  int64_t running_elements = 0;
  int64_t batch_counters = 0;
  for (const auto& item : model->named_buffers()) {
    ++buffers;
    const std::string& name = item.key();
    if (name.ends_with("num_batches_tracked")) {
      ++batch_counters;
      EXPECT_EQ(item.value().numel(), 1) << name;
    } else {
      EXPECT_TRUE(name.ends_with("running_mean") || name.ends_with("running_var")) << name;
      running_elements += item.value().numel();
    }
  }
  EXPECT_EQ(buffers, 3 * 53);
  EXPECT_EQ(batch_counters, 53);
  EXPECT_EQ(running_elements, 2 * 26560);
  // The batch norms' affine parameters are the same 26,560 channels twice.
  int64_t bn_parameters = 0;
  for (const auto& item : model->named_parameters()) {
    if (item.key().find("bn") != std::string::npos ||
        item.key().find("downsample.1.") != std::string::npos) {
      bn_parameters += item.value().numel();
    }
  }
  EXPECT_EQ(bn_parameters, 2 * 26560);
}

TEST(ParameterCount, ResNet50SmallInputsUseTheCifarStem) {
  // As resnet18: a 3x3 stem instead of 7x7, and a head of 2048 -> 10.
  const int64_t expected = 25557032 - 3 * 64 * 49 + 3 * 64 * 9 - 990 * 2048 - 990;
  EXPECT_EQ(parameter_count(*make_model("resnet50", kCifar, 10)), expected);
}

}  // namespace
}  // namespace distsgd::models
