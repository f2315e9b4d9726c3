// ResNet-18 as torchvision builds it: basic blocks [2, 2, 2, 2] at 64, 128,
// 256 and 512 channels with 1x1 conv + batch norm projection shortcuts, global
// average pooling and a linear classifier; 11,689,512 parameters for 3x224x224
// inputs and 1000 classes. Inputs of height 64 or more get the ImageNet stem
// (7x7 stride-2 convolution, 3x3 stride-2 max-pool); smaller ones (CIFAR's
// 32x32, MNIST's 28x28) get a 3x3 stride-1 stem with no pooling, since the
// ImageNet stem would shrink them to 1x1 maps by the last stage.
#include <torch/torch.h>

#include "models/basic_block.hpp"
#include "models/zoo.hpp"

namespace distsgd::models {
namespace {

constexpr int64_t kImageNetStemMinHeight = 64;
constexpr int64_t kBlocksPerStage = 2;

torch::nn::Conv2d make_stem(int64_t in_channels, bool imagenet) {
  auto options = imagenet ? torch::nn::Conv2dOptions(in_channels, 64, 7).stride(2).padding(3)
                          : torch::nn::Conv2dOptions(in_channels, 64, 3).stride(1).padding(1);
  return torch::nn::Conv2d(options.bias(false));
}

class ResNet18 : public Model {
 public:
  ResNet18(int64_t in_channels, int64_t num_classes, bool imagenet_stem)
      : imagenet_stem_(imagenet_stem),
        conv1_(register_module("conv1", make_stem(in_channels, imagenet_stem))),
        bn1_(register_module("bn1", torch::nn::BatchNorm2d(64))),
        layer1_(register_module("layer1",
                                make_stage(64, 64, kBlocksPerStage, 1, Shortcut::kProjection))),
        layer2_(register_module("layer2",
                                make_stage(64, 128, kBlocksPerStage, 2, Shortcut::kProjection))),
        layer3_(register_module("layer3",
                                make_stage(128, 256, kBlocksPerStage, 2, Shortcut::kProjection))),
        layer4_(register_module("layer4",
                                make_stage(256, 512, kBlocksPerStage, 2, Shortcut::kProjection))),
        fc_(register_module("fc", torch::nn::Linear(512, num_classes))) {}

  torch::Tensor forward(torch::Tensor inputs) override {
    auto x = torch::relu(bn1_(conv1_(inputs)));
    if (imagenet_stem_) x = torch::max_pool2d(x, 3, 2, 1);
    x = layer1_->forward(x);
    x = layer2_->forward(x);
    x = layer3_->forward(x);
    x = layer4_->forward(x);
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc_(x);
  }

 private:
  bool imagenet_stem_;
  torch::nn::Conv2d conv1_;
  torch::nn::BatchNorm2d bn1_;
  torch::nn::Sequential layer1_;
  torch::nn::Sequential layer2_;
  torch::nn::Sequential layer3_;
  torch::nn::Sequential layer4_;
  torch::nn::Linear fc_;
};

}  // namespace

std::shared_ptr<Model> make_resnet18(const data::SampleShape& shape, int64_t num_classes) {
  return std::make_shared<ResNet18>(shape.channels, num_classes,
                                    shape.height >= kImageNetStemMinHeight);
}

}  // namespace distsgd::models
