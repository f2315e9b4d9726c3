#pragma once
// What summary.json says of a run (docs/training.md: Output): the figures of every
// worker gathered, the divergence of the replicas (the largest max-abs
// difference between any worker's parameters, or buffers, and worker 0's),
// and the method's own figures. The keys are those the comparisons and tests
// read; keep them.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "train/eval_result.hpp"
#include "train/training_position.hpp"

namespace distsgd {

// One rank's part of the summary, as the run has it at the end.
struct RunFigures {
  Role role = Role::worker;
  TrainingPosition position;  // with the clock's training and evaluation times
  double wall_s = 0.0;
  double checkpoint_s = 0.0;
  // Training time up to this worker's last step (what it then spends waiting
  // for the others is not its throughput).
  double active_train_s = 0.0;
  std::vector<double> step_times_s;
  double injected_s = 0.0;  // fault injection: delays slept
  std::optional<EvalResult> final_eval, local_eval;
  int64_t steps_per_epoch = 1;
  int64_t parameters = 0;
  bool checkpoints = false;  // whether the run takes checkpoints
  std::vector<int> lost_ranks;
  int64_t bad_images_skipped = 0;  // --bad-images skip: training samples replaced
  nlohmann::json versions;
};

// Collective over `world` (every rank, servers too) and `workers` (this rank's
// role group); `method_summary` is the method's collective summary().
// `replica` (a worker's) is measured for divergence. Rank 0 (always a worker)
// returns the full summary; a server returns its method figures only.
nlohmann::json make_summary(const TrainConfig& config, const RunFigures& figures,
                            ReplicaView replica, comm::Communicator& world,
                            comm::Communicator& workers,
                            const std::function<nlohmann::json()>& method_summary);

}  // namespace distsgd
