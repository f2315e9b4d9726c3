#pragma once
// The run's checkpoints (file formats: checkpoint.hpp): when the epoch loop
// asks for one, or after a SIGTERM/SIGINT, this writes it in the layout of the
// method (traits().checkpoints) and keeps the last two; at the start of a run
// it restores one (--resume).
//
//   whole_file: rank 0 writes the replica, its momentum and the position;
//     every rank then meets at a barrier, so the file is complete when any
//     rank goes on.
//   in_parts: every writing rank writes its own part, the digests are
//     all-gathered, and rank 0 writes the manifest (checkpoint_manifest.hpp)
//     last, so a manifest exists only once all its parts do.
//
// Restoring a manifest, every rank reads its own part and all agree whether
// every part was good: a damaged part fails the whole job alike, naming that
// part and the previous good checkpoint to resume from instead (the fallback
// hint). Time spent here counts as checkpoint time on the run clock.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "train/replica.hpp"
#include "train/run_clock.hpp"
#include "train/training_position.hpp"

namespace distsgd {

class Checkpointer {
 public:
  struct Setup {
    const TrainConfig& config;
    comm::Communicator& world;    // the job
    comm::Communicator& workers;  // this rank's role group (servers: the servers)
    Role role;
    MethodTraits::Checkpoints layout;
    MethodCheckpoints* hooks;  // the method's checkpoint hooks; null: it has none
    int64_t steps_per_epoch;
    nlohmann::json versions;   // runtime_versions()
    nlohmann::json model = nullptr;  // final.ckpt's record of the model (final_model.hpp)
  };
  Checkpointer(Setup setup, Replica replica, RunClock& clock);

  // The names of the checkpoints a run takes, in --log-dir: at the end of an
  // epoch, and where a signal stopped training (a step of worker 0's).
  static std::string epoch_name(int64_t epoch);
  static std::string stop_name(int64_t step);
  std::string path_of(const std::string& name) const;

  // A checkpoint `name` of every worker at `position` (an epoch end, or
  // whole_file after a signal). The method first brings the job to a point
  // where one can be taken; returns false when a worker of an asynchronous
  // method has stopped, so none is possible: the caller stops too.
  bool save(const std::string& name, const TrainingPosition& position);
  // in_parts, after a signal stopped training and the method finished:
  // every rank of the job writes its part of stop_name(step). Returns the
  // manifest's path.
  std::string save_after_stop(int64_t step, const TrainingPosition& position);
  // This rank's part of the checkpoint whose manifest is `manifest_path`: its
  // replica and position (workers) and the method's state (servers: all of
  // it). Servers write theirs with it when the workers ask for a checkpoint.
  CheckpointDigest write_own_part(const std::string& manifest_path,
                                  const TrainingPosition& position);
  // Rank 0 at the end: final.ckpt with `params` (what the final evaluation
  // scored) and the replica's buffers.
  void write_final(std::span<const float> params, const TrainingPosition& position) const;

  struct Restored {
    std::optional<TrainingPosition> position;  // this worker's (none on a server)
    // in_parts: the furthest step of any worker in the checkpoint; -1 otherwise.
    int64_t resumed_max_step = -1;
  };
  // --resume `path`, after the method's start(): checks the configuration
  // against the checkpoint's, restores the replica, momentum and method state.
  // Collective over the job for a manifest.
  Restored restore(const std::string& path);

  // The newest checkpoint written or resumed from, for messages.
  std::optional<std::string> last() const;

 private:
  void write_parts(const std::string& path, comm::Communicator& writers,
                   const std::vector<std::optional<CheckpointDigest>>& known,
                   const TrainingPosition& position);
  void keep(const std::string& path);
  Restored restore_whole(const std::string& path, const Checkpoint& checkpoint);
  Restored restore_parts(const std::string& path, const Checkpoint& manifest);
  std::optional<TrainingPosition> apply_part(const Checkpoint& part, const std::string& path);
  void put_replica(Checkpoint& checkpoint) const;
  void take_replica(const Checkpoint& checkpoint, const std::string& path);

  Setup setup_;
  Replica replica_;
  RunClock& clock_;
  std::vector<std::string> kept_;  // oldest first; rank 0 removes all but the last two
};

}  // namespace distsgd
