// The residual networks of He et al. 2016, built from one description: a stem
// (3x3 stride 1, or torchvision's ImageNet stem: 7x7 stride 2 and a 3x3
// stride-2 max-pool), stages of basic or bottleneck blocks (residual_stage.hpp),
// global average pooling and a linear classifier. Modules are registered as
// conv1, bn1, layer1..layerN, fc, as torchvision names them.
//
//   resnet18: torchvision's ResNet-18: basic blocks [2, 2, 2, 2] at 64, 128,
//             256 and 512 channels with projection shortcuts; 11,689,512
//             parameters for 3x224x224 inputs and 1000 classes.
//   resnet50: torchvision's ResNet-50 (v1.5: the stride on the 3x3
//             convolution): bottleneck blocks [3, 4, 6, 3] at widths 64, 128,
//             256 and 512, so 256 .. 2048 channels out; 25,557,032 parameters
//             for 3x224x224 inputs and 1000 classes.
//             For both, inputs of height 64 or more get the ImageNet stem;
//             smaller ones (CIFAR's 32x32, MNIST's 28x28) the 3x3 stem, since
//             the ImageNet stem would shrink them to 1x1 maps by the last stage.
//   resnet20: the CIFAR-10 network (section 4.2): basic blocks [3, 3, 3] at 16,
//             32 and 64 channels with zero-padding shortcuts (option A);
//             269,722 parameters for 10 classes. Any input size works.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/residual_stage.hpp"
#include "models/zoo.hpp"

namespace distsgd::models {
namespace {

struct ResNetSpec {
  BlockKind block = BlockKind::kBasic;
  std::vector<int64_t> widths;  // width of each stage; the stem has widths[0] channels
  std::vector<int64_t> blocks;  // blocks of each stage, as many as widths
  Shortcut shortcut = Shortcut::kProjection;
  bool imagenet_stem = false;
};

torch::nn::Conv2d make_stem(int64_t in_channels, int64_t width, bool imagenet) {
  auto options = imagenet ? torch::nn::Conv2dOptions(in_channels, width, 7).stride(2).padding(3)
                          : torch::nn::Conv2dOptions(in_channels, width, 3).stride(1).padding(1);
  return torch::nn::Conv2d(options.bias(false));
}

class ResNet : public Model {
 public:
  ResNet(const ResNetSpec& spec, int64_t in_channels, int64_t num_classes)
      : imagenet_stem_(spec.imagenet_stem),
        conv1_(register_module("conv1", make_stem(in_channels, spec.widths.front(),
                                                  spec.imagenet_stem))),
        bn1_(register_module("bn1", torch::nn::BatchNorm2d(spec.widths.front()))) {
    int64_t in = spec.widths.front();
    for (std::size_t s = 0; s < spec.widths.size(); ++s) {
      const int64_t stride = s == 0 ? 1 : 2;
      stages_.push_back(register_module(
          "layer" + std::to_string(s + 1),
          make_stage(spec.block, in, spec.widths[s], spec.blocks[s], stride, spec.shortcut)));
      in = spec.widths[s] * block_expansion(spec.block);
    }
    fc_ = register_module("fc", torch::nn::Linear(in, num_classes));
  }

  torch::Tensor forward(torch::Tensor inputs) override {
    auto x = torch::relu(bn1_(conv1_(inputs)));
    if (imagenet_stem_) x = torch::max_pool2d(x, 3, 2, 1);
    for (auto& stage : stages_) x = stage->forward(x);
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc_(x);
  }

 private:
  bool imagenet_stem_;
  torch::nn::Conv2d conv1_;
  torch::nn::BatchNorm2d bn1_;
  std::vector<torch::nn::Sequential> stages_;
  torch::nn::Linear fc_{nullptr};
};

constexpr int64_t kImageNetStemMinHeight = 64;

}  // namespace

std::shared_ptr<Model> make_resnet18(const data::SampleShape& shape, int64_t num_classes) {
  const ResNetSpec spec{BlockKind::kBasic, {64, 128, 256, 512}, {2, 2, 2, 2},
                        Shortcut::kProjection, shape.height >= kImageNetStemMinHeight};
  return std::make_shared<ResNet>(spec, shape.channels, num_classes);
}

std::shared_ptr<Model> make_resnet50(const data::SampleShape& shape, int64_t num_classes) {
  const ResNetSpec spec{BlockKind::kBottleneck, {64, 128, 256, 512}, {3, 4, 6, 3},
                        Shortcut::kProjection, shape.height >= kImageNetStemMinHeight};
  return std::make_shared<ResNet>(spec, shape.channels, num_classes);
}

std::shared_ptr<Model> make_resnet20(const data::SampleShape& shape, int64_t num_classes) {
  const ResNetSpec spec{BlockKind::kBasic, {16, 32, 64}, {3, 3, 3}, Shortcut::kZeroPad, false};
  return std::make_shared<ResNet>(spec, shape.channels, num_classes);
}

}  // namespace distsgd::models
