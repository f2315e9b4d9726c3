#include "models/init.hpp"

#include <torch/torch.h>

namespace distsgd::models {

void init_weights(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  // modules() walks depth first in registration order, which fixes the order
  // of the random draws and so makes the result a function of the seed alone.
  for (const auto& module : model.modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* linear = module->as<torch::nn::Linear>()) {
      torch::nn::init::kaiming_uniform_(linear->weight, 0.0, torch::kFanIn, torch::kReLU);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      bn->weight.fill_(1.0);
      bn->bias.zero_();
    }
  }
}

}  // namespace distsgd::models
