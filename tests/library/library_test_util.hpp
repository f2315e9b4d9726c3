#pragma once
// A small torch::data dataset and module for the library's tests: two
// classes told apart by the sign of the mean of a [1, 2, 3] input.
#include <torch/torch.h>

#include "distsgd/distsgd.hpp"

namespace distsgd::testing {

class SignDataset : public torch::data::datasets::Dataset<SignDataset> {
 public:
  explicit SignDataset(int64_t size, uint64_t seed = 3) {
    auto generator = at::detail::createCPUGenerator(seed);
    labels_ = torch::randint(0, 2, {size}, generator, torch::kInt64);
    inputs_ = (labels_.to(torch::kFloat32) * 2 - 1).view({size, 1, 1, 1}).expand({size, 1, 2, 3}) +
              0.5 * torch::randn({size, 1, 2, 3}, generator);
  }
  torch::data::Example<> get(std::size_t index) override {
    const auto i = static_cast<int64_t>(index);
    return {inputs_[i], labels_[i]};
  }
  torch::optional<std::size_t> size() const override { return labels_.size(0); }

 private:
  torch::Tensor inputs_, labels_;
};

// flatten -> linear(6, 2), with a parameter and a buffer of the root module
// itself (beside its submodule) and a forward() that asks is_training().
struct SignNetImpl : torch::nn::Module {
  SignNetImpl()
      : linear(register_module("linear", torch::nn::Linear(6, 2))),
        scale(register_parameter("scale", torch::ones({1}))),
        calls(register_buffer("calls", torch::zeros({1}, torch::kInt64))) {}
  torch::Tensor forward(torch::Tensor x) {
    if (is_training()) calls += 1;
    return linear(x.flatten(1)) * scale;
  }
  torch::nn::Linear linear;
  torch::Tensor scale, calls;
};
TORCH_MODULE(SignNet);

inline Problem sign_problem(int64_t train_size = 256, int64_t test_size = 64) {
  Problem problem;
  problem.model = [] { return torch::nn::AnyModule(SignNet()); };
  problem.train = samples_of(SignDataset(train_size, 3));
  problem.test = samples_of(SignDataset(test_size, 4));
  return problem;
}

}  // namespace distsgd::testing
