#include "library/module_model.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/errors.hpp"

namespace distsgd::library {

ModuleModel::ModuleModel(torch::nn::AnyModule module) : module_(std::move(module)) {
  if (module_.is_empty())
    throw ConfigError("the problem's model factory returned an empty torch::nn::AnyModule");
  auto& inner = *module_.ptr();
  for (auto& child : inner.named_children()) register_module(child.key(), child.value());
  for (auto& parameter : inner.named_parameters(/*recurse=*/false))
    register_parameter(parameter.key(), parameter.value(), parameter.value().requires_grad());
  for (auto& buffer : inner.named_buffers(/*recurse=*/false))
    register_buffer(buffer.key(), buffer.value());
}

torch::Tensor ModuleModel::forward(torch::Tensor inputs) {
  return module_.forward<torch::Tensor>(std::move(inputs));
}

void ModuleModel::train(bool on) {
  models::Model::train(on);
  module_.ptr()->train(on);
}

void check_logits(models::Model& model, const torch::Tensor& inputs, int64_t num_classes) {
  const bool was_training = model.is_training();
  model.eval();
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    try {
      logits = model.forward(inputs);
    } catch (const c10::Error& error) {
      model.train(was_training);
      throw ConfigError(fmt::format("the model's forward() fails on a batch of shape [{}]: {}",
                                    fmt::join(inputs.sizes(), ", "), error.what_without_backtrace()));
    }
  }
  model.train(was_training);
  const int64_t batch = inputs.size(0);
  if (!logits.defined() || logits.dim() != 2 || logits.size(0) != batch ||
      logits.size(1) != num_classes || !logits.is_floating_point())
    throw ConfigError(fmt::format(
        "the model's forward() gives {} for a batch of {} sample(s); it must give float logits "
        "[{}, {}] (batch, num_classes)",
        logits.defined() ? fmt::format("{} [{}]", c10::toString(logits.scalar_type()),
                                       fmt::join(logits.sizes(), ", "))
                         : std::string("an undefined tensor"),
        batch, batch, num_classes));
}

}  // namespace distsgd::library
