#include "train/initial_model.hpp"

#include <torch/torch.h>

#include "core/errors.hpp"
#include "models/named_state.hpp"

namespace distsgd {

std::shared_ptr<models::Model> make_initial_model(const TrainConfig& config,
                                                  const data::Dataset& train,
                                                  const decltype(RunInputs::model)& make) {
  if (config.device == "cuda" && !torch::cuda::is_available())
    throw ConfigError(
        "--device cuda: this LibTorch build has no CUDA support or no GPU is visible");
  if (config.device == "cuda")
    throw ConfigError(
        "--device cuda: the flat-buffer exchange is implemented for CPU tensors only");
  torch::manual_seed(config.seed);
  auto model =
      make ? make(train) : models::make_model(config.model, train.shape(), train.num_classes());
  if (!config.init_from.empty())  // before the method shares rank 0's initial state
    models::load_state_dict_file(*model, config.init_from, "--init-from");
  model->to(torch::Device(config.device));
  return model;
}

}  // namespace distsgd
