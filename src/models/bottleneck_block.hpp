#pragma once
// The bottleneck residual block of He et al. 2016 (section 4.1, figure 5
// right), as torchvision's ResNet-50 builds it ("ResNet v1.5"): a 1x1
// convolution down to `width` channels, a 3x3 convolution at `width` that
// carries the stride, a 1x1 convolution up to width * kExpansion, each with
// batch norm, added to a shortcut. The paper puts the stride on the first 1x1
// convolution, which then reads one input position in four; on the 3x3 every
// position contributes, which torchvision reports is slightly more accurate,
// for the same parameters (and more FLOPs).
//
// Modules are conv1, bn1, conv2, bn2, conv3, bn3 and, where the block changes
// width or resolution, downsample (a projection, shortcut.hpp: torchvision
// has no zero-pad variant of this block). The batch norms start at weight 1,
// as torchvision's default (no zero-init of bn3).
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

namespace distsgd::models {

class BottleneckImpl : public torch::nn::Module {
 public:
  // Output channels per unit of width: the block returns width * 4 channels.
  static constexpr int64_t kExpansion = 4;

  BottleneckImpl(int64_t in_channels, int64_t width, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::Conv2d conv2_{nullptr};
  torch::nn::BatchNorm2d bn2_{nullptr};
  torch::nn::Conv2d conv3_{nullptr};
  torch::nn::BatchNorm2d bn3_{nullptr};
  torch::nn::Sequential downsample_{nullptr};  // only where the shape changes
};
TORCH_MODULE(Bottleneck);

}  // namespace distsgd::models
