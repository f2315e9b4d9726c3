#include "library/problem_inputs.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/errors.hpp"
#include "library/module_model.hpp"
#include "library/sample_dataset.hpp"

namespace distsgd::library {

RunInputs inputs_for(const Problem& problem) {
  if (!problem.model)
    throw ConfigError(
        "the problem has no model: set Problem::model to a function returning a "
        "torch::nn::AnyModule");
  if (problem.model_name.empty() || problem.dataset_name.empty())
    throw ConfigError("the problem's model_name and dataset_name must not be empty");
  RunInputs inputs;
  inputs.datasets = [&problem] {
    data::Datasets sets;
    sets.train = std::make_unique<SampleDataset>(problem.train, "the training set",
                                                 problem.num_classes);
    sets.test = std::make_unique<SampleDataset>(problem.test, "the test set",
                                                sets.train->num_classes());
    const auto train = sets.train->shape(), test = sets.test->shape();
    if (train.channels != test.channels || train.height != test.height ||
        train.width != test.width)
      throw DataError(fmt::format(
          "the test set's samples are [{}, {}, {}], the training set's [{}, {}, {}]: both must "
          "have one shape",
          test.channels, test.height, test.width, train.channels, train.height, train.width));
    return sets;
  };
  inputs.model = [&problem](const data::Dataset& train) -> std::shared_ptr<models::Model> {
    auto model = std::make_shared<ModuleModel>(problem.model());
    const std::vector<int64_t> first{0};
    check_logits(*model, train.batch(first).inputs, train.num_classes());
    return model;
  };
  return inputs;
}

}  // namespace distsgd::library
