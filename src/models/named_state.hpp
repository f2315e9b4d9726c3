#pragma once
// A model's state by name, as PyTorch's Module.state_dict() and
// load_state_dict(strict=True) see it. distsgd's ResNets register their
// modules under torchvision's names (conv1, bn1, layerN.i.{conv,bn}K,
// layerN.0.downsample.{0,1}, fc), so for resnet18 and resnet50 these names and
// shapes are torchvision's, and a state dict moves between the two unchanged.
#include <torch/nn/module.h>

#include <string>

#include "models/state_dict_file.hpp"

namespace distsgd::models {

// Every parameter and buffer of `model` (the tensors themselves, not copies),
// in the order of PyTorch's state_dict(): each module's parameters, then its
// buffers (batch norm: running_mean, running_var, num_batches_tracked), then
// its children's, depth first in registration order.
NamedTensors named_state(torch::nn::Module& model);

// Copies `state` into `model`'s parameters and buffers, strictly: every name
// of named_state(model) must be in `state` with the same shape, and no other
// name. Otherwise DataError naming `what` (the file) and the names missing,
// unexpected or mis-shaped; when the mis-shaped tensor is the classifier (the
// model's last parameters), the message says the class counts differ.
// Values are converted to the model's dtypes, as load_state_dict does.
void load_named_state(torch::nn::Module& model, const NamedTensors& state, const std::string& what);

}  // namespace distsgd::models

namespace distsgd::models {

// read_state_dict(path) then load_named_state(model, ..., path); every
// DataError is prefixed with `label` (e.g. "--init-from").
void load_state_dict_file(torch::nn::Module& model, const std::string& path,
                          const std::string& label);

}  // namespace distsgd::models
