#pragma once
// The networks distsgd trains. Every model is a torch::nn::Module with a
// forward() from a float NCHW batch to class logits.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.hpp"

namespace distsgd::models {

class Model : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor inputs) = 0;
};

// Builds `name` (one of model_names()) for inputs of `shape` and
// `num_classes` outputs, with Kaiming initialisation drawn from torch's global
// generator (seed it first for reproducible weights). An unknown name, or a
// shape the model cannot take, throws ConfigError.
std::shared_ptr<Model> make_model(const std::string& name, const data::SampleShape& shape,
                                  int64_t num_classes);

// mlp, cnn, resnet20, resnet18, resnet50: the names make_model() takes, in the
// order --model's help lists them.
std::vector<std::string> model_names();

}  // namespace distsgd::models
