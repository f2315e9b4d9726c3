// Parameter counts pin each architecture down layer by layer: a wrong width, a
// missing bias or an extra layer changes them.
#include <gtest/gtest.h>
#include <torch/torch.h>

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

}  // namespace
}  // namespace distsgd::models
