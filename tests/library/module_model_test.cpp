// The model adapter: a program's torch::nn::Module as the trainer's Model,
// and the checks inputs_for() makes of a Problem.
#include "library/module_model.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.hpp"
#include "library/library_test_util.hpp"
#include "library/problem_inputs.hpp"

namespace distsgd::library {
namespace {

using testing::SignNet;

template <typename F>
std::string config_error(F make) {
  try {
    make();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(ModuleModel, ForwardIsTheModulesForward) {
  torch::manual_seed(5);
  SignNet net;
  ModuleModel model{torch::nn::AnyModule(net)};
  const auto inputs = torch::randn({4, 1, 2, 3});
  net->eval();
  model.eval();
  EXPECT_TRUE(torch::allclose(model.forward(inputs), net->forward(inputs)));
}

TEST(ModuleModel, HoldsTheModulesOwnTensorsUnderTheirOwnNames) {
  SignNet net;
  ModuleModel model{torch::nn::AnyModule(net)};
  const auto theirs = net->named_parameters(), ours = model.named_parameters();
  ASSERT_EQ(ours.size(), theirs.size());
  for (const auto& parameter : theirs) {
    ASSERT_TRUE(ours.contains(parameter.key())) << parameter.key();
    // The same tensor, not a copy: an update through the trainer's view is
    // the program's module's update.
    EXPECT_TRUE(ours[parameter.key()].is_same(parameter.value())) << parameter.key();
  }
  EXPECT_TRUE(model.named_buffers().contains("calls"));
  torch::NoGradGuard no_grad;
  model.named_parameters()["scale"].fill_(3.0);
  EXPECT_EQ(net->scale.item<float>(), 3.0f);
}

TEST(ModuleModel, TrainAndEvalReachTheModuleItself) {
  SignNet net;
  ModuleModel model{torch::nn::AnyModule(net)};
  model.eval();
  EXPECT_FALSE(net->is_training());
  model.forward(torch::zeros({1, 1, 2, 3}));
  EXPECT_EQ(net->calls.item<int64_t>(), 0);
  model.train();
  EXPECT_TRUE(net->is_training());
  EXPECT_TRUE(net->linear->is_training());
  model.forward(torch::zeros({1, 1, 2, 3}));
  EXPECT_EQ(net->calls.item<int64_t>(), 1);
}

TEST(ModuleModel, AnEmptyModuleIsAConfigError) {
  const auto message = config_error([] { ModuleModel model{torch::nn::AnyModule()}; });
  EXPECT_NE(message.find("empty torch::nn::AnyModule"), std::string::npos) << message;
}

TEST(CheckLogits, WrongLogitsAreAConfigErrorAndTheModeIsKept) {
  SignNet net;
  ModuleModel model{torch::nn::AnyModule(net)};
  const auto inputs = torch::zeros({1, 1, 2, 3});
  EXPECT_NO_THROW(check_logits(model, inputs, 2));
  EXPECT_TRUE(model.is_training());
  EXPECT_EQ(net->calls.item<int64_t>(), 0);  // checked in eval mode
  const auto message = config_error([&] { check_logits(model, inputs, 10); });
  EXPECT_NE(message.find("gives Float [1, 2] for a batch of 1 sample(s); it must give float "
                         "logits [1, 10]"),
            std::string::npos)
      << message;
  const auto fails = config_error([&] { check_logits(model, torch::zeros({1, 1, 3, 3}), 2); });
  EXPECT_NE(fails.find("the model's forward() fails on a batch of shape [1, 1, 3, 3]"),
            std::string::npos)
      << fails;
}

TEST(InputsFor, AProblemWithoutAModelIsAConfigError) {
  Problem problem = testing::sign_problem();
  problem.model = nullptr;
  const auto message = config_error([&] { inputs_for(problem); });
  EXPECT_NE(message.find("the problem has no model"), std::string::npos) << message;
}

TEST(InputsFor, TheTestSetMustHaveTheTrainingSetsShape) {
  Problem problem = testing::sign_problem();
  problem.test = Samples{3, [](int64_t) {
                           return torch::data::Example<>{torch::zeros({1, 3, 2}),
                                                         torch::tensor(int64_t{0})};
                         }};
  const auto inputs = inputs_for(problem);
  try {
    inputs.datasets();
    FAIL() << "no DataError";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("the test set's samples are [1, 3, 2], the training set's [1, 2, 3]"),
              std::string::npos)
        << error.what();
  }
}

TEST(InputsFor, TheModelIsCheckedAgainstTheDeducedClassCount) {
  Problem problem = testing::sign_problem();
  // Labels 0..4: five classes deduced, but the model gives two logits.
  problem.train = Samples{10, [](int64_t i) {
                            return torch::data::Example<>{torch::zeros({1, 2, 3}),
                                                          torch::tensor(i % 5)};
                          }};
  const auto inputs = inputs_for(problem);
  const auto sets = inputs.datasets();
  EXPECT_EQ(sets.train->num_classes(), 5);
  const auto message = config_error([&] { inputs.model(*sets.train); });
  EXPECT_NE(message.find("it must give float logits [1, 5]"), std::string::npos) << message;
}

}  // namespace
}  // namespace distsgd::library
