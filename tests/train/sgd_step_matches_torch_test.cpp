// sgd_step (methods/update_math.hpp) against torch::optim::SGD itself: a
// worker stepping with LibTorch and a server stepping with sgd_step must move
// the same parameters the same way.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "methods/update_math.hpp"

namespace distsgd::math {
namespace {

std::vector<float> to_vector(const torch::Tensor& tensor) {
  const auto contiguous = tensor.detach().contiguous();
  return {contiguous.data_ptr<float>(), contiguous.data_ptr<float>() + contiguous.numel()};
}

struct TorchCase {
  double momentum;
  double weight_decay;
  bool nesterov;
};

class SgdMatchesTorch : public ::testing::TestWithParam<TorchCase> {};

TEST_P(SgdMatchesTorch, OverFiveStepsWithAChangingRate) {
  const TorchCase c = GetParam();
  constexpr int64_t kSize = 1000;
  torch::manual_seed(21);
  auto reference = torch::randn({kSize}).requires_grad_(true);
  std::vector<float> x = to_vector(reference);
  torch::optim::SGD optimizer(std::vector<torch::Tensor>{reference},
                              torch::optim::SGDOptions(0.1)
                                  .momentum(c.momentum)
                                  .weight_decay(c.weight_decay)
                                  .nesterov(c.nesterov));
  MomentumState state;
  const SgdHyper hyper{c.momentum, c.weight_decay, c.nesterov};

  for (int step = 0; step < 5; ++step) {
    SCOPED_TRACE(step);
    const double lr = 0.1 / (step + 1);  // the schedule changes the rate between steps
    static_cast<torch::optim::SGDOptions&>(optimizer.param_groups()[0].options()).lr(lr);
    const auto grad = torch::randn({kSize});
    reference.mutable_grad() = grad.clone();
    optimizer.step();
    sgd_step(x, to_vector(grad), state, hyper, lr);

    const auto expected = to_vector(reference);
    EXPECT_LT(max_abs_difference(x, expected), 1e-6f);
    EXPECT_EQ(state.started(), c.momentum != 0.0);
  }
  // The steps did move the parameters (a no-op sgd_step would fail above, but
  // only if torch moved them too).
  torch::manual_seed(21);
  EXPECT_GT(max_abs_difference(x, to_vector(torch::randn({kSize}))), 1e-2f);
}

INSTANTIATE_TEST_SUITE_P(Hyper, SgdMatchesTorch,
                         ::testing::Values(TorchCase{0.9, 1e-4, false}, TorchCase{0.9, 1e-4, true},
                                           TorchCase{0.9, 0.0, false}, TorchCase{0.0, 1e-4, false},
                                           TorchCase{0.5, 1e-2, true}),
                         [](const ::testing::TestParamInfo<TorchCase>& info) {
                           return "mu" +
                                  std::to_string(static_cast<int>(info.param.momentum * 10)) +
                                  "_wd" + std::to_string(info.param.weight_decay > 0) +
                                  (info.param.nesterov ? "_nesterov" : "");
                         });

}  // namespace
}  // namespace distsgd::math
