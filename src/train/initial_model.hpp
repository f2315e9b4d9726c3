#pragma once
// The model a training run starts from, on the run's device: the seed's random
// initialisation (the same on every rank, so the method's initial broadcast
// changes nothing on a correct run), or --init-from's state dict
// (models/named_state.hpp) loaded over it. `make` (RunInputs::model) builds
// the model instead of config.model, after the same seeding. Throws
// ConfigError for a device this build cannot train on, DataError for a state
// dict that does not fit.
#include <torch/types.h>

#include <memory>

#include "core/config.hpp"
#include "data/dataset.hpp"
#include "models/model.hpp"
#include "train/run_inputs.hpp"

namespace distsgd {

// The device this rank trains on: --device resolved (core/device_choice.hpp)
// against the GPUs LibTorch sees and the launcher's local rank. ConfigError
// for a GPU: the methods exchange CPU buffers only, so far.
torch::Device training_device(const TrainConfig& config);

std::shared_ptr<models::Model> make_initial_model(const TrainConfig& config,
                                                  const data::Dataset& train,
                                                  const decltype(RunInputs::model)& make = {});

}  // namespace distsgd
