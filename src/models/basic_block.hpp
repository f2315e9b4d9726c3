#pragma once
// The basic residual block of He et al. 2016: two 3x3 convolutions with batch
// norm, added to a shortcut. resnet20 and resnet18 share it and differ only in
// the shortcut a block takes when it changes width or resolution.
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

namespace distsgd::models {

enum class Shortcut {
  // Option A of the paper: subsample by the stride and pad the new channels
  // with zeros. No parameters; what the CIFAR ResNets (resnet20) use.
  kZeroPad,
  // Option B: a 1x1 convolution with the stride, then batch norm. What
  // torchvision's ResNet-18 uses (its "downsample").
  kProjection,
};

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride, Shortcut shortcut);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::Tensor shortcut(const torch::Tensor& x);

  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::Conv2d conv2_{nullptr};
  torch::nn::BatchNorm2d bn2_{nullptr};
  torch::nn::Sequential downsample_{nullptr};  // projection, only where the shape changes
  int64_t stride_;
  int64_t pad_before_ = 0;  // zero-pad shortcut: channels added in front of / after x
  int64_t pad_after_ = 0;
  bool reshapes_;  // whether the output differs from the input in channels or size
};
TORCH_MODULE(BasicBlock);

// One stage of a ResNet: `blocks` blocks, the first of which takes the stride
// and the change of width.
torch::nn::Sequential make_stage(int64_t in_channels, int64_t out_channels, int64_t blocks,
                                 int64_t stride, Shortcut shortcut);

}  // namespace distsgd::models
