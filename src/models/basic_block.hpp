#pragma once
// The basic residual block of He et al. 2016: two 3x3 convolutions with batch
// norm, added to a shortcut. resnet20 and resnet18 share it and differ only in
// the shortcut a block takes when it changes width or resolution. Its output
// has out_channels channels (expansion 1); the batch norms start at weight 1,
// as torchvision's default (no zero-init of the last one).
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

#include "models/shortcut.hpp"

namespace distsgd::models {

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

}  // namespace distsgd::models
