#pragma once
// What a run trains on when it is not what its config names: the injection
// point of the library (src/library/, include/distsgd/distsgd.hpp), where a
// program gives its own model and data. Everything else about the run (the
// method, evaluation, checkpoints, metrics, the summary) is the same.
#include <functional>
#include <memory>

#include "data/dataset.hpp"
#include "models/model.hpp"

namespace distsgd {

struct RunInputs {
  // Replaces data::load_datasets(data_options(config)); empty: those.
  std::function<data::Datasets()> datasets;
  // Replaces models::make_model(config.model, ...): called after
  // torch::manual_seed(config.seed), before --init-from and the move to the
  // device (make_initial_model); empty: the model config.model names.
  std::function<std::shared_ptr<models::Model>(const data::Dataset& train)> model;
};

}  // namespace distsgd
