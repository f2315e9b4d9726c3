// The small convolutional network of the MNIST examples: two 3x3 convolutions,
// each followed by ReLU and a 2x2 max-pool, then two linear layers. 225,034
// parameters for 1x28x28 inputs and 10 classes.
#include <torch/torch.h>

#include <string>

#include "core/errors.hpp"
#include "models/zoo.hpp"

namespace distsgd::models {
namespace {

constexpr int64_t kConv1Channels = 32;
constexpr int64_t kConv2Channels = 64;
constexpr int64_t kHidden = 128;

// The side of the map after one unpadded 3x3 convolution and a 2x2 max-pool,
// or 0 where the pool would get less than one window.
int64_t after_conv_pool(int64_t side) {
  const int64_t conv = side - 2;
  return conv >= 2 ? conv / 2 : 0;
}

class Cnn : public Model {
 public:
  Cnn(int64_t in_channels, int64_t flat_features, int64_t num_classes)
      : conv1_(register_module(
            "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, kConv1Channels, 3)))),
        conv2_(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                            kConv1Channels, kConv2Channels, 3)))),
        fc1_(register_module("fc1", torch::nn::Linear(flat_features, kHidden))),
        fc2_(register_module("fc2", torch::nn::Linear(kHidden, num_classes))) {}

  torch::Tensor forward(torch::Tensor inputs) override {
    auto x = torch::max_pool2d(torch::relu(conv1_(inputs)), 2);
    x = torch::max_pool2d(torch::relu(conv2_(x)), 2);
    x = torch::relu(fc1_(x.flatten(1)));
    return fc2_(x);
  }

 private:
  torch::nn::Conv2d conv1_;
  torch::nn::Conv2d conv2_;
  torch::nn::Linear fc1_;
  torch::nn::Linear fc2_;
};

}  // namespace

std::shared_ptr<Model> make_cnn(const data::SampleShape& shape, int64_t num_classes) {
  // The first linear layer's width follows from the input size (1600 for
  // 28x28); an input too small to survive both conv/pool stages has none.
  const int64_t height = after_conv_pool(after_conv_pool(shape.height));
  const int64_t width = after_conv_pool(after_conv_pool(shape.width));
  if (height < 1 || width < 1) {
    throw ConfigError("model cnn needs inputs of at least 10x10 pixels, got " +
                      std::to_string(shape.height) + "x" + std::to_string(shape.width));
  }
  return std::make_shared<Cnn>(shape.channels, kConv2Channels * height * width, num_classes);
}

}  // namespace distsgd::models
