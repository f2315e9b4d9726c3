#include "bare_loop.hpp"

#include <torch/torch.h>

#include <chrono>

namespace bench {
namespace {

// Written out again on purpose (not distsgd's models/cnn): the bare baseline.
struct BareCnn : torch::nn::Module {
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  BareCnn() {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3)));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3)));
    fc1 = register_module("fc1", torch::nn::Linear(1600, 128));
    fc2 = register_module("fc2", torch::nn::Linear(128, 10));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(conv1(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2(x)), 2);
    return fc2(torch::relu(fc1(x.flatten(1))));
  }
};

}  // namespace

std::vector<double> bare_libtorch_step_times(int batch_size, int warmup, int steps) {
  torch::manual_seed(1);
  BareCnn model;
  torch::optim::SGD optimizer(model.parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  // A pool of batches made beforehand, so that input creation is not timed.
  std::vector<torch::Tensor> inputs, targets;
  for (int i = 0; i < 16; ++i) {
    inputs.push_back(torch::randn({batch_size, 1, 28, 28}));
    targets.push_back(torch::randint(0, 10, {batch_size}, torch::kInt64));
  }
  std::vector<double> times;
  for (int step = 0; step < warmup + steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    optimizer.zero_grad();
    auto loss =
        torch::nn::functional::cross_entropy(model.forward(inputs[step % 16]), targets[step % 16]);
    loss.backward();
    optimizer.step();
    volatile double value = loss.item<double>();  // a real loop reads its loss
    (void)value;
    if (step >= warmup)
      times.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return times;
}

}  // namespace bench
