#include "models/basic_block.hpp"

#include <torch/torch.h>

namespace distsgd::models {
namespace {

torch::nn::Conv2d conv3x3(int64_t in_channels, int64_t out_channels, int64_t stride) {
  // No bias: the batch norm that follows would cancel it.
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in_channels, out_channels, 3).stride(stride).padding(1).bias(false));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride,
                               Shortcut shortcut)
    : conv1_(register_module("conv1", conv3x3(in_channels, out_channels, stride))),
      bn1_(register_module("bn1", torch::nn::BatchNorm2d(out_channels))),
      conv2_(register_module("conv2", conv3x3(out_channels, out_channels, 1))),
      bn2_(register_module("bn2", torch::nn::BatchNorm2d(out_channels))),
      stride_(stride),
      reshapes_(stride != 1 || in_channels != out_channels) {
  if (!reshapes_) return;
  if (shortcut == Shortcut::kProjection) {
    downsample_ = register_module("downsample", make_projection(in_channels, out_channels, stride));
  } else {
    // Split the extra channels evenly, as the reference CIFAR implementations do
    // (planes/4 on each side when the width doubles).
    pad_before_ = (out_channels - in_channels) / 2;
    pad_after_ = out_channels - in_channels - pad_before_;
  }
}

torch::Tensor BasicBlockImpl::shortcut(const torch::Tensor& x) {
  if (!reshapes_) return x;
  if (downsample_) return downsample_->forward(x);
  // x[:, :, ::s, ::s] has the size of a 3x3/pad-1 convolution with stride s
  // for even and odd inputs alike.
  auto sub = x.slice(2, 0, x.size(2), stride_).slice(3, 0, x.size(3), stride_);
  return torch::constant_pad_nd(sub, {0, 0, 0, 0, pad_before_, pad_after_});
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  auto out = torch::relu(bn1_(conv1_(x)));
  out = bn2_(conv2_(out));
  return torch::relu(out + shortcut(x));
}

}  // namespace distsgd::models
