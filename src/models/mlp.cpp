// A multilayer perceptron: the flattened image through two hidden layers of
// 256 ReLU units. 269,322 parameters for 1x28x28 inputs and 10 classes.
#include <torch/torch.h>

#include "models/zoo.hpp"

namespace distsgd::models {
namespace {

constexpr int64_t kHidden = 256;

class Mlp : public Model {
 public:
  Mlp(int64_t inputs, int64_t num_classes)
      : fc1_(register_module("fc1", torch::nn::Linear(inputs, kHidden))),
        fc2_(register_module("fc2", torch::nn::Linear(kHidden, kHidden))),
        fc3_(register_module("fc3", torch::nn::Linear(kHidden, num_classes))) {}

  torch::Tensor forward(torch::Tensor inputs) override {
    auto x = inputs.flatten(1);
    x = torch::relu(fc1_(x));
    x = torch::relu(fc2_(x));
    return fc3_(x);
  }

 private:
  torch::nn::Linear fc1_;
  torch::nn::Linear fc2_;
  torch::nn::Linear fc3_;
};

}  // namespace

std::shared_ptr<Model> make_mlp(const data::SampleShape& shape, int64_t num_classes) {
  return std::make_shared<Mlp>(shape.numel(), num_classes);
}

}  // namespace distsgd::models
