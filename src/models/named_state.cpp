#include "models/named_state.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>

#include "core/errors.hpp"

namespace distsgd::models {
namespace {

void collect(torch::nn::Module& module, const std::string& prefix, NamedTensors& out) {
  for (const auto& item : module.named_parameters(/*recurse=*/false))
    out.emplace_back(prefix + item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/false))
    out.emplace_back(prefix + item.key(), item.value());
  for (const auto& child : module.named_children())
    collect(*child.value(), prefix + child.key() + ".", out);
}

std::string shape_of(const torch::Tensor& tensor) {
  return fmt::format("[{}]", fmt::join(tensor.sizes(), ", "));
}

// At most the first five names, then how many more.
std::string some(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 5; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 5) out += fmt::format(" and {} more", names.size() - 5);
  return out;
}

}  // namespace

NamedTensors named_state(torch::nn::Module& model) {
  NamedTensors out;
  collect(model, "", out);
  return out;
}

void load_named_state(torch::nn::Module& model, const NamedTensors& state,
                      const std::string& what) {
  const auto targets = named_state(model);
  std::map<std::string, const torch::Tensor*> given;
  for (const auto& [name, tensor] : state) given.emplace(name, &tensor);
  // The classifier: the model's last parameters (weight and bias of the final
  // linear layer), whose first dimension is the number of classes.
  const auto parameters = model.named_parameters();
  std::vector<std::string> classifier;
  for (std::size_t i = parameters.size() >= 2 ? parameters.size() - 2 : 0; i < parameters.size();
       ++i)
    classifier.push_back(parameters[i].key());

  std::vector<std::string> missing, unexpected, misshaped;
  for (const auto& [name, target] : targets) {
    const auto found = given.find(name);
    if (found == given.end()) {
      missing.push_back(name);
      continue;
    }
    const auto& source = *found->second;
    if (source.sizes() == target.sizes()) continue;
    std::string problem = fmt::format("{} has shape {} in the file, the model's is {}", name,
                                      shape_of(source), shape_of(target));
    const bool is_classifier =
        std::find(classifier.begin(), classifier.end(), name) != classifier.end();
    if (is_classifier && source.dim() == target.dim() && source.dim() >= 1 &&
        source.sizes().slice(1) == target.sizes().slice(1))
      problem += fmt::format(" (the file's model has {} classes, this one {})", source.size(0),
                             target.size(0));
    misshaped.push_back(problem);
  }
  std::map<std::string, bool> known;
  for (const auto& [name, target] : targets) known[name] = true;
  for (const auto& [name, tensor] : state)
    if (!known.count(name)) unexpected.push_back(name);
  std::string problems = some(misshaped);
  const auto add = [&problems](const std::string& problem) {
    problems += (problems.empty() ? "" : "; ") + problem;
  };
  if (!missing.empty())
    add(fmt::format("missing {} of the model's tensors: {}", missing.size(), some(missing)));
  if (!unexpected.empty())
    add(fmt::format("{} names the model does not have: {}", unexpected.size(), some(unexpected)));
  if (!problems.empty())
    throw DataError(fmt::format("{}: does not fit the model: {}", what, problems));

  torch::NoGradGuard no_grad;
  for (const auto& [name, target] : targets) {
    auto destination = target;  // a handle on the same tensor
    destination.copy_(*given.at(name));
  }
}

}  // namespace distsgd::models

namespace distsgd::models {

void load_state_dict_file(torch::nn::Module& model, const std::string& path,
                          const std::string& label) {
  try {
    load_named_state(model, read_state_dict(path), path);
  } catch (const DataError& error) {
    throw DataError(label + ": " + error.what());
  }
}

}  // namespace distsgd::models
