#include "models/bottleneck_block.hpp"

#include <torch/torch.h>

#include "models/shortcut.hpp"

namespace distsgd::models {
namespace {

torch::nn::Conv2d conv(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride) {
  // No bias: the batch norm that follows would cancel it. Padding kernel/2
  // keeps the size for stride 1 (3x3 pads 1, 1x1 pads 0).
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, kernel)
                               .stride(stride)
                               .padding(kernel / 2)
                               .bias(false));
}

}  // namespace

BottleneckImpl::BottleneckImpl(int64_t in_channels, int64_t width, int64_t stride)
    : conv1_(register_module("conv1", conv(in_channels, width, 1, 1))),
      bn1_(register_module("bn1", torch::nn::BatchNorm2d(width))),
      conv2_(register_module("conv2", conv(width, width, 3, stride))),
      bn2_(register_module("bn2", torch::nn::BatchNorm2d(width))),
      conv3_(register_module("conv3", conv(width, width * kExpansion, 1, 1))),
      bn3_(register_module("bn3", torch::nn::BatchNorm2d(width * kExpansion))) {
  if (stride != 1 || in_channels != width * kExpansion) {
    downsample_ =
        register_module("downsample", make_projection(in_channels, width * kExpansion, stride));
  }
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  auto out = torch::relu(bn1_(conv1_(x)));
  out = torch::relu(bn2_(conv2_(out)));
  out = bn3_(conv3_(out));
  return torch::relu(out + (downsample_ ? downsample_->forward(x) : x));
}

}  // namespace distsgd::models
