// FlatParameters: the module's parameters, gradients and batch-norm statistics
// must really live in the flat buffers, before and after backward and optimizer
// steps, or every method that sends one buffer would send stale numbers.
#include "models/flat_parameters.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace distsgd {
namespace {

torch::nn::Sequential make_net() {
  torch::manual_seed(7);
  return torch::nn::Sequential(torch::nn::Linear(4, 8), torch::nn::BatchNorm1d(8),
                               torch::nn::Linear(8, 3));
}

torch::nn::Sequential clone_of(const torch::nn::Sequential& net) {
  return torch::nn::Sequential(std::dynamic_pointer_cast<torch::nn::SequentialImpl>(net->clone()));
}

// Whether `tensor`'s memory is the `numel` floats at `offset` of `flat`.
bool lives_at(const torch::Tensor& tensor, torch::Tensor& flat, int64_t offset) {
  return tensor.data_ptr<float>() == flat.data_ptr<float>() + offset &&
         tensor.storage().data() == flat.storage().data();
}

torch::Tensor loss_of(torch::nn::Sequential& net, const torch::Tensor& input) {
  return net->forward(input).pow(2).sum();
}

TEST(FlatParameters, ParametersAreViewsAtTheirSlotOffsets) {
  auto net = make_net();
  std::vector<torch::Tensor> before;
  std::vector<std::string> names;
  for (const auto& item : net->named_parameters()) {
    before.push_back(item.value().detach().clone());
    names.push_back(item.key());
  }
  FlatParameters flat(*net);

  ASSERT_EQ(flat.slots().size(), before.size());
  int64_t expected_offset = 0;
  const auto params = net->parameters();
  for (std::size_t i = 0; i < flat.slots().size(); ++i) {
    const auto& slot = flat.slots()[i];
    SCOPED_TRACE(slot.name);
    EXPECT_EQ(slot.name, names[i]);
    EXPECT_EQ(slot.offset, expected_offset);
    EXPECT_EQ(slot.numel, before[i].numel());
    // The module's own tensor (not only the slot's copy of the handle) moved.
    EXPECT_TRUE(lives_at(params[i], flat.params(), slot.offset));
    EXPECT_TRUE(lives_at(params[i].grad(), flat.grads(), slot.offset));
    EXPECT_EQ(params[i].sizes(), before[i].sizes());
    EXPECT_TRUE(params[i].requires_grad());
    EXPECT_TRUE(torch::equal(params[i].detach(), before[i]));
    EXPECT_TRUE(
        torch::equal(flat.params().narrow(0, slot.offset, slot.numel), before[i].reshape({-1})));
    expected_offset += slot.numel;
  }
  // 4*8+8 + 8+8 + 8*3+3
  EXPECT_EQ(flat.numel(), 83);
  EXPECT_EQ(expected_offset, flat.numel());
  EXPECT_EQ(flat.grads().numel(), flat.numel());
  EXPECT_EQ(flat.grads().count_nonzero().item<int64_t>(), 0);
  EXPECT_EQ(flat.param_span().data(), flat.params().data_ptr<float>());
  EXPECT_EQ(static_cast<int64_t>(flat.param_span().size()), flat.numel());
  EXPECT_EQ(flat.grad_span().data(), flat.grads().data_ptr<float>());
}

TEST(FlatParameters, GradientsOfBackwardLandInTheFlatBuffer) {
  auto net = make_net();
  auto reference = clone_of(net);
  FlatParameters flat(*net);
  torch::manual_seed(11);
  const auto input = torch::randn({5, 4});

  loss_of(net, input).backward();
  loss_of(reference, input).backward();

  EXPECT_GT(flat.grads().abs().sum().item<double>(), 0.0);
  const auto params = net->parameters();
  const auto ref_params = reference->parameters();
  for (std::size_t i = 0; i < flat.slots().size(); ++i) {
    const auto& slot = flat.slots()[i];
    SCOPED_TRACE(slot.name);
    EXPECT_TRUE(lives_at(params[i].grad(), flat.grads(), slot.offset));
    EXPECT_TRUE(torch::allclose(flat.grads().narrow(0, slot.offset, slot.numel),
                                ref_params[i].grad().reshape({-1}), 1e-5, 1e-6));
  }
}

TEST(FlatParameters, WritingTheFlatBufferChangesTheModule) {
  auto net = make_net();
  auto reference = clone_of(net);
  FlatParameters flat(*net);
  {
    torch::NoGradGuard no_grad;
    flat.params().sub_(0.25);
    for (auto& p : reference->parameters()) p.sub_(0.25);
  }
  const auto params = net->parameters();
  const auto ref_params = reference->parameters();
  for (std::size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(torch::allclose(params[i], ref_params[i])) << flat.slots()[i].name;
  // And the forward pass sees the new values.
  torch::manual_seed(3);
  const auto input = torch::randn({6, 4});
  EXPECT_TRUE(torch::allclose(net->forward(input), reference->forward(input), 1e-5, 1e-6));

  // A write through the span is the same memory.
  flat.param_span()[0] = 42.0f;
  EXPECT_EQ(params[0].reshape({-1})[0].item<float>(), 42.0f);
}

TEST(FlatParameters, TorchSgdStepOnModuleParametersMovesTheFlatBuffer) {
  auto net = make_net();
  FlatParameters flat(*net);
  torch::manual_seed(5);
  const auto input = torch::randn({5, 4});
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));

  for (int step = 0; step < 2; ++step) {
    flat.zero_grads();
    loss_of(net, input).backward();
    const auto before = flat.params().clone();
    optimizer.step();
    EXPECT_FALSE(torch::equal(before, flat.params())) << "step " << step;
  }
  // The first step of momentum SGD is x -= lr * g: check it exactly on a fresh pair.
  auto net2 = make_net();
  FlatParameters flat2(*net2);
  torch::optim::SGD plain(net2->parameters(), torch::optim::SGDOptions(0.1));
  loss_of(net2, input).backward();
  const auto expected = flat2.params() - 0.1 * flat2.grads();
  plain.step();
  EXPECT_TRUE(torch::allclose(flat2.params(), expected, 1e-6, 1e-7));
  const auto params = net2->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(lives_at(params[i], flat2.params(), flat2.slots()[i].offset));
    EXPECT_TRUE(lives_at(params[i].grad(), flat2.grads(), flat2.slots()[i].offset));
  }
}

TEST(FlatParameters, ZeroGradsZeroesAndGradientsAccumulateInTheBuffer) {
  auto net = make_net();
  FlatParameters flat(*net);
  torch::manual_seed(9);
  const auto input = torch::randn({5, 4});
  // Batch norm in eval mode: two passes on the same input give the same gradient.
  net->eval();

  loss_of(net, input).backward();
  const auto once = flat.grads().clone();
  ASSERT_GT(once.abs().sum().item<double>(), 0.0);
  loss_of(net, input).backward();
  EXPECT_TRUE(torch::allclose(flat.grads(), 2 * once, 1e-5, 1e-6));
  const auto params = net->parameters();
  for (std::size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(lives_at(params[i].grad(), flat.grads(), flat.slots()[i].offset));

  flat.zero_grads();
  EXPECT_EQ(flat.grads().count_nonzero().item<int64_t>(), 0);
  for (const auto& p : params) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().count_nonzero().item<int64_t>(), 0);
  }
  loss_of(net, input).backward();
  EXPECT_TRUE(torch::allclose(flat.grads(), once, 1e-5, 1e-6));
}

TEST(FlatParameters, BatchNormRunningStatisticsLiveInBuffers) {
  auto net = make_net();
  auto reference = clone_of(net);
  FlatParameters flat(*net);
  auto bn = net->ptr(1)->as<torch::nn::BatchNorm1d>();
  ASSERT_NE(bn, nullptr);

  // running_mean (8) and running_var (8); num_batches_tracked is int64 and stays out.
  ASSERT_EQ(flat.buffers().numel(), 16);
  EXPECT_EQ(static_cast<int64_t>(flat.buffer_span().size()), 16);
  EXPECT_TRUE(torch::equal(flat.buffers(), torch::cat({torch::zeros({8}), torch::ones({8})})));
  EXPECT_EQ(bn->running_mean.data_ptr<float>(), flat.buffers().data_ptr<float>());
  EXPECT_EQ(bn->running_var.data_ptr<float>(), flat.buffers().data_ptr<float>() + 8);
  EXPECT_EQ(bn->num_batches_tracked.scalar_type(), torch::kLong);

  torch::manual_seed(13);
  const auto input = torch::randn({16, 4}) * 3 + 1;
  net->train();
  reference->train();
  const auto before = flat.buffers().clone();
  {
    torch::NoGradGuard no_grad;
    net->forward(input);
    reference->forward(input);
  }
  EXPECT_FALSE(torch::equal(before, flat.buffers()));
  auto ref_bn = reference->ptr(1)->as<torch::nn::BatchNorm1d>();
  EXPECT_TRUE(torch::allclose(flat.buffers().narrow(0, 0, 8), ref_bn->running_mean, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(flat.buffers().narrow(0, 8, 8), ref_bn->running_var, 1e-5, 1e-6));

  // Eval mode reads the statistics from the buffer: overwrite them there and
  // the output follows.
  net->eval();
  reference->eval();
  {
    torch::NoGradGuard no_grad;
    flat.buffers().narrow(0, 0, 8).fill_(0.5);
    flat.buffers().narrow(0, 8, 8).fill_(2.0);
    ref_bn->running_mean.fill_(0.5);
    ref_bn->running_var.fill_(2.0);
    const auto after_eval = flat.buffers().clone();
    EXPECT_TRUE(torch::allclose(net->forward(input), reference->forward(input), 1e-5, 1e-6));
    EXPECT_TRUE(torch::equal(after_eval, flat.buffers()));  // eval does not update
  }
}

TEST(FlatParameters, ModelWithoutBuffersHasAnEmptyBuffer) {
  torch::nn::Linear linear(3, 2);
  FlatParameters flat(*linear);
  EXPECT_EQ(flat.numel(), 8);
  EXPECT_EQ(flat.buffers().numel(), 0);
  EXPECT_TRUE(flat.buffer_span().empty());
}

TEST(FlatParameters, ModelWithoutParametersIsAConfigError) {
  torch::nn::ReLU relu;
  EXPECT_THROW(FlatParameters flat(*relu), ConfigError);
}

}  // namespace
}  // namespace distsgd
