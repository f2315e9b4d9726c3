#pragma once
// The shortcut path of a residual block where the block changes width or
// resolution (where it does not, the shortcut is the identity). Shared by the
// basic block (basic_block.hpp) and the bottleneck block (bottleneck_block.hpp).
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>

namespace distsgd::models {

enum class Shortcut {
  // Option A of the paper: subsample by the stride and pad the new channels
  // with zeros. No parameters; what the CIFAR ResNets (resnet20) use.
  kZeroPad,
  // Option B: a 1x1 convolution with the stride, then batch norm. What
  // torchvision's ResNets use (their "downsample").
  kProjection,
};

// Option B as torchvision builds it: Sequential(Conv2d 1x1 stride `stride`,
// no bias; BatchNorm2d), so its parameters are named downsample.0.* and
// downsample.1.* once registered as "downsample".
torch::nn::Sequential make_projection(int64_t in_channels, int64_t out_channels, int64_t stride);

}  // namespace distsgd::models
