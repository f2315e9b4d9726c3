#include "train/training_position.hpp"

#include <cmath>

namespace distsgd {
namespace {

nlohmann::json or_null(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::optional<double> optional_at(const nlohmann::json& meta, const char* key) {
  const auto& value = meta.at(key);
  return value.is_null() ? std::nullopt : std::optional(value.get<double>());
}

}  // namespace

nlohmann::json to_json(const TrainingPosition& position) {
  return {{"step", position.step},
          {"epoch", position.epoch},
          {"samples", position.samples},
          {"train_time_s", position.train_time_s},
          {"eval_time_s", position.eval_time_s},
          {"best_test_accuracy", position.best_test_accuracy},
          {"time_to_target_s", or_null(position.time_to_target_s)},
          {"epochs_to_target", or_null(position.epochs_to_target)},
          {"skipped_steps", position.skipped_steps}};
}

TrainingPosition position_from_json(const nlohmann::json& meta) {
  TrainingPosition position;
  position.step = meta.at("step").get<int64_t>();
  position.epoch = meta.at("epoch").get<int64_t>();
  position.samples = meta.at("samples").get<int64_t>();
  position.train_time_s = meta.at("train_time_s").get<double>();
  position.eval_time_s = meta.at("eval_time_s").get<double>();
  position.best_test_accuracy = meta.at("best_test_accuracy").get<double>();
  position.time_to_target_s = optional_at(meta, "time_to_target_s");
  position.epochs_to_target = optional_at(meta, "epochs_to_target");
  position.skipped_steps = meta.value("skipped_steps", int64_t{0});
  return position;
}

TrainingPosition rescale(const TrainingPosition& saved, int64_t saved_steps_per_epoch,
                         int64_t steps_per_epoch) {
  TrainingPosition moved = saved;
  const double fraction = static_cast<double>(saved.step - saved.epoch * saved_steps_per_epoch) /
                          static_cast<double>(saved_steps_per_epoch);
  moved.step = saved.epoch * steps_per_epoch +
               static_cast<int64_t>(std::llround(fraction * static_cast<double>(steps_per_epoch)));
  return moved;
}

}  // namespace distsgd
