// ResNet-20 for CIFAR-10 (He et al. 2016, section 4.2): a 3x3 stem to 16
// channels, three stages of three basic blocks at 16, 32 and 64 channels (the
// later two halving the resolution), global average pooling and a linear
// classifier. Shortcuts are option A, identity with zero padding, as in the
// paper's CIFAR experiments: 269,722 parameters for 10 classes. Any input size
// works (1x28x28 included), since the head pools whatever map is left.
#include <torch/torch.h>

#include "models/basic_block.hpp"
#include "models/zoo.hpp"

namespace distsgd::models {
namespace {

constexpr int64_t kBlocksPerStage = 3;

class ResNet20 : public Model {
 public:
  ResNet20(int64_t in_channels, int64_t num_classes)
      : conv1_(register_module(
            "conv1", torch::nn::Conv2d(
                         torch::nn::Conv2dOptions(in_channels, 16, 3).padding(1).bias(false)))),
        bn1_(register_module("bn1", torch::nn::BatchNorm2d(16))),
        layer1_(
            register_module("layer1", make_stage(16, 16, kBlocksPerStage, 1, Shortcut::kZeroPad))),
        layer2_(
            register_module("layer2", make_stage(16, 32, kBlocksPerStage, 2, Shortcut::kZeroPad))),
        layer3_(
            register_module("layer3", make_stage(32, 64, kBlocksPerStage, 2, Shortcut::kZeroPad))),
        fc_(register_module("fc", torch::nn::Linear(64, num_classes))) {}

  torch::Tensor forward(torch::Tensor inputs) override {
    auto x = torch::relu(bn1_(conv1_(inputs)));
    x = layer3_->forward(layer2_->forward(layer1_->forward(x)));
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc_(x);
  }

 private:
  torch::nn::Conv2d conv1_;
  torch::nn::BatchNorm2d bn1_;
  torch::nn::Sequential layer1_;
  torch::nn::Sequential layer2_;
  torch::nn::Sequential layer3_;
  torch::nn::Linear fc_;
};

}  // namespace

std::shared_ptr<Model> make_resnet20(const data::SampleShape& shape, int64_t num_classes) {
  return std::make_shared<ResNet20>(shape.channels, num_classes);
}

}  // namespace distsgd::models
