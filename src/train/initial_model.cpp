#include "train/initial_model.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/device_choice.hpp"
#include "core/errors.hpp"
#include "models/named_state.hpp"

namespace distsgd {

torch::Device training_device(const TrainConfig& config) {
  const auto device =
      resolve_device(parse_device(config.device),
                     static_cast<int>(torch::cuda::device_count()), launcher_local_rank());
  if (device != "cpu")
    throw ConfigError(fmt::format(
        "--device {} ({}): the methods' exchange of flat buffers is implemented for CPU tensors "
        "only; train with --device cpu",
        config.device, device));
  return torch::Device(device);
}

std::shared_ptr<models::Model> make_initial_model(const TrainConfig& config,
                                                  const data::Dataset& train,
                                                  const decltype(RunInputs::model)& make) {
  const auto device = training_device(config);
  torch::manual_seed(config.seed);
  auto model =
      make ? make(train) : models::make_model(config.model, train.shape(), train.num_classes());
  if (!config.init_from.empty())  // before the method shares rank 0's initial state
    models::load_state_dict_file(*model, config.init_from, "--init-from");
  model->to(device);
  return model;
}

}  // namespace distsgd
