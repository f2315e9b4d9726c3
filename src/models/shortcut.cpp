#include "models/shortcut.hpp"

#include <torch/torch.h>

namespace distsgd::models {

torch::nn::Sequential make_projection(int64_t in_channels, int64_t out_channels, int64_t stride) {
  // No bias: the batch norm that follows would cancel it.
  return torch::nn::Sequential(
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(in_channels, out_channels, 1).stride(stride).bias(false)),
      torch::nn::BatchNorm2d(out_channels));
}

}  // namespace distsgd::models
