// The model registry: name -> constructor, plus the checks and the weight
// initialisation every model shares.
#include <torch/torch.h>

#include <string>
#include <utility>

#include "core/errors.hpp"
#include "models/init.hpp"
#include "models/model.hpp"
#include "models/zoo.hpp"

namespace distsgd::models {
namespace {

using Factory = std::shared_ptr<Model> (*)(const data::SampleShape&, int64_t);

// One table, so model_names() and make_model() cannot disagree.
constexpr std::pair<const char*, Factory> kModels[] = {
    {"mlp", make_mlp},
    {"cnn", make_cnn},
    {"resnet20", make_resnet20},
    {"resnet18", make_resnet18},
    {"resnet50", make_resnet50},
};

std::string joined_names() {
  std::string out;
  for (const auto& name : model_names()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : kModels) names.emplace_back(name);
  return names;
}

std::shared_ptr<Model> make_model(const std::string& name, const data::SampleShape& shape,
                                  int64_t num_classes) {
  Factory factory = nullptr;
  for (const auto& [known, make] : kModels) {
    if (name == known) factory = make;
  }
  if (factory == nullptr) {
    throw ConfigError("unknown model '" + name + "' (known: " + joined_names() + ")");
  }
  if (shape.channels < 1 || shape.height < 1 || shape.width < 1) {
    throw ConfigError("model " + name + " needs a positive input shape, got " +
                      std::to_string(shape.channels) + "x" + std::to_string(shape.height) + "x" +
                      std::to_string(shape.width));
  }
  if (num_classes < 2) {
    throw ConfigError("model " + name + " needs at least 2 classes, got " +
                      std::to_string(num_classes));
  }
  auto model = factory(shape, num_classes);
  init_weights(*model);
  return model;
}

}  // namespace distsgd::models
