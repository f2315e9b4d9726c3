#pragma once
// Kaiming initialisation of a whole model, so every architecture starts the
// same way and the draw depends only on torch's global generator: modules are
// visited in registration order, hence the same seed gives the same weights.
#include <torch/nn/module.h>

namespace distsgd::models {

// Conv2d: weight kaiming_normal_(fan_out, relu) as torchvision, bias 0.
// Linear: weight kaiming_uniform_(fan_in, relu), i.e. U(-sqrt(6/fan_in),
//   sqrt(6/fan_in)); bias 0.
// BatchNorm2d: weight 1, bias 0.
void init_weights(torch::nn::Module& model);

}  // namespace distsgd::models
