#pragma once
// The training loop, the same for every method: data shard -> forward/backward
// (gradient buckets handed to the method as they are ready) -> method hook ->
// optimizer step on the flat parameters -> method hook -> metrics; every so
// often evaluation and a checkpoint. See algorithms/algorithm.hpp for the hooks,
// and the pieces in this folder (train_step, evaluator, checkpointer,
// stop_agreement, fault_injection, run_summary) for each part of a run.
#include <nlohmann/json.hpp>

#include <vector>

#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "train/run_inputs.hpp"

namespace distsgd {

struct TrainResult {
  nlohmann::json summary;           // what rank 0 writes as summary.json (on every rank)
  std::vector<double> step_times_s; // this rank's wall time of each step
  std::vector<int> lost_ranks;      // --survive-worker-loss: ranks the run finished without
};

// Collective over `comm`: every rank calls it with the same configuration.
// Writes metrics.rank<R>.jsonl, checkpoints and (rank 0) summary.json and
// final.ckpt into config.log_dir.
TrainResult train(const TrainConfig& config, comm::Communicator& comm);
// The same with the model and/or the data sets of `inputs` (run_inputs.hpp).
TrainResult train(const TrainConfig& config, comm::Communicator& comm, const RunInputs& inputs);

}  // namespace distsgd
