#pragma once
// A program's own module (torch::nn::AnyModule, distsgd::Problem::model) as
// the models::Model the trainer trains. The adapter holds the module's own
// parameters, buffers and submodules under their own names (no prefix), so
// the flat parameter buffer, checkpoints, --init-from state dicts and
// `distsgd export` see the names the program gave them; forward() is the
// module's forward(), and train()/eval() reach the module itself as well as
// its submodules (for a forward() that asks is_training()).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>

#include "models/model.hpp"

namespace distsgd::library {

class ModuleModel : public models::Model {
 public:
  // ConfigError for an empty AnyModule.
  explicit ModuleModel(torch::nn::AnyModule module);

  torch::Tensor forward(torch::Tensor inputs) override;
  void train(bool on = true) override;

 private:
  torch::nn::AnyModule module_;
};

// ConfigError unless `model` maps a batch of `inputs` to
// [batch, num_classes] float logits. Runs forward() once in eval mode without
// gradients (no batch-norm statistic changes), then restores the mode.
void check_logits(models::Model& model, const torch::Tensor& inputs, int64_t num_classes);

}  // namespace distsgd::library
