#pragma once
// Where a worker stands in training: what a checkpoint records of it and what a
// resumed run continues from. A value type; the JSON keys are those of the
// checkpoint header (whole file, or a worker's part), so old checkpoints read.
//
// While a run goes, the clock (run_clock.hpp) holds the two times; they are
// filled in when the run takes a snapshot of its position for a checkpoint.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace distsgd {

struct TrainingPosition {
  int64_t step = 0;   // global step of this worker, the next one to run
  int64_t epoch = 0;  // current epoch, counted from 0
  int64_t samples = 0;
  double train_time_s = 0.0;
  double eval_time_s = 0.0;
  double best_test_accuracy = 0.0;
  std::optional<double> time_to_target_s;  // training time when --target-accuracy was reached
  std::optional<double> epochs_to_target;
  int64_t skipped_steps = 0;  // --nan-policy skip: updates dropped

  bool operator==(const TrainingPosition&) const = default;
};

nlohmann::json to_json(const TrainingPosition& position);
// The inverse of to_json; "skipped_steps" may be missing (checkpoints of older
// builds). Throws nlohmann::json::exception when another key is missing.
TrainingPosition position_from_json(const nlohmann::json& meta);

// `saved` on a job whose epochs have `steps_per_epoch` steps, when it was
// saved with `saved_steps_per_epoch` (a whole-file checkpoint resumed on
// another node count: each worker's shard, and so an epoch's steps, depends on
// the number of workers). The epoch stays and the position inside it keeps its
// fraction, rounded to the nearest step; everything else is unchanged. The
// same count is the identity. Both counts must be >= 1.
TrainingPosition rescale(const TrainingPosition& saved, int64_t saved_steps_per_epoch,
                         int64_t steps_per_epoch);

}  // namespace distsgd
