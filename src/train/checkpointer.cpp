#include "train/checkpointer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/errors.hpp"
#include "core/stop_signal.hpp"
#include "core/timeline.hpp"
#include "train/checkpoint.hpp"
#include "train/checkpoint_manifest.hpp"

namespace distsgd {
namespace {

void copy_into(std::span<float> target, const std::vector<float>& source, const std::string& what,
               const std::string& path) {
  if (source.size() != target.size())
    throw DataError(fmt::format("{}: checkpoint {} has {} values, the model needs {}", path, what,
                                source.size(), target.size()));
  std::copy(source.begin(), source.end(), target.begin());
}

// What to say when --resume PATH is damaged: the checkpoint to use instead.
std::string fallback_hint(const std::string& path) {
  const auto fallback = newest_good_checkpoint(path);
  return fallback ? fmt::format("the previous good checkpoint is {} (resume with --resume {})",
                                *fallback, *fallback)
                  : std::string("there is no other good checkpoint beside it");
}

const char* role_name(Role role) { return role == Role::worker ? "worker" : "server"; }

}  // namespace

Checkpointer::Checkpointer(Setup setup, Replica replica, RunClock& clock)
    : setup_(std::move(setup)), replica_(replica), clock_(clock) {}

std::string Checkpointer::epoch_name(int64_t epoch) {
  return fmt::format("checkpoint-epoch{}.ckpt", epoch);
}

std::string Checkpointer::stop_name(int64_t step) {
  return fmt::format("checkpoint-step{}.ckpt", step);
}

std::string Checkpointer::path_of(const std::string& name) const {
  return setup_.config.log_dir + "/" + name;
}

std::optional<std::string> Checkpointer::last() const {
  return kept_.empty() ? std::nullopt : std::optional(kept_.back());
}

void Checkpointer::put_replica(Checkpoint& checkpoint) const {
  const auto view = replica_.view();
  checkpoint.tensors["params"] = {view.params.begin(), view.params.end()};
  checkpoint.tensors["buffers"] = {view.buffers.begin(), view.buffers.end()};
  checkpoint.tensors["momentum"] = replica_.momentum.buffer;
}

void Checkpointer::take_replica(const Checkpoint& checkpoint, const std::string& path) {
  const auto view = replica_.view();
  copy_into(view.params, checkpoint.tensors.at("params"), "parameters", path);
  copy_into(view.buffers, checkpoint.tensors.at("buffers"), "buffers", path);
  replica_.momentum.buffer = checkpoint.tensors.at("momentum");
}

bool Checkpointer::save(const std::string& name, const TrainingPosition& position) {
  auto pause = clock_.pause_for_checkpoint();
  timeline::Span span("checkpoint", "checkpoint", "step", position.step);
  const auto path = path_of(name);
  const auto servers = setup_.hooks->prepare(replica_.view(), position.epoch, position.step);
  if (setup_.layout == MethodTraits::Checkpoints::in_parts) {
    if (!servers) return false;
    write_parts(path, setup_.workers, *servers, position);
    return true;
  }
  if (setup_.world.rank() == 0) {
    Checkpoint checkpoint;
    checkpoint.meta = to_json(position);
    checkpoint.meta.update({{"config", setup_.config.to_json()},
                            {"nodes", setup_.world.size()},
                            {"steps_per_epoch", setup_.steps_per_epoch},
                            {"versions", setup_.versions}});
    put_replica(checkpoint);
    write_checkpoint(path, checkpoint);
  }
  keep(path);
  setup_.world.barrier("after writing checkpoint " + path);
  set_resume_hint("last checkpoint: " + path);
  return true;
}

std::string Checkpointer::save_after_stop(int64_t step, const TrainingPosition& position) {
  auto pause = clock_.pause_for_checkpoint();
  timeline::Span span("checkpoint", "checkpoint", "step", step);
  const auto path = path_of(stop_name(step));
  write_parts(path, setup_.world, {}, position);
  return path;
}

CheckpointDigest Checkpointer::write_own_part(const std::string& manifest_path,
                                              const TrainingPosition& position) {
  timeline::Span span("checkpoint part", "checkpoint");
  const int rank = setup_.world.rank();
  const auto method = setup_.hooks->state(replica_.view());
  Checkpoint part;
  part.meta = {{"part_of", std::filesystem::path(manifest_path).filename().string()},
               {"rank", rank},
               {"role", role_name(setup_.role)},
               {"method", method.meta}};
  part.tensors = method.tensors;
  if (setup_.role == Role::worker) {
    part.meta.update(to_json(position));
    put_replica(part);
  }
  return write_checkpoint(checkpoint_part_path(manifest_path, rank), part);
}

// Every rank of `writers` writes its part; rank 0 then writes the manifest,
// listing those parts and the `known` ones (written by servers meanwhile).
void Checkpointer::write_parts(const std::string& path, comm::Communicator& writers,
                               const std::vector<std::optional<CheckpointDigest>>& known,
                               const TrainingPosition& position) {
  const auto own = write_own_part(path, position);
  const auto mine = pack_part(
      {setup_.world.rank(), own,
       setup_.role == Role::worker ? std::optional(position.step) : std::nullopt});
  std::vector<int64_t> all(mine.size() * static_cast<std::size_t>(writers.size()));
  writers.allgather(mine.data(), all.data(), mine.size() * sizeof(int64_t),
                    "checkpoint part digests");
  if (setup_.world.rank() == 0) {
    write_checkpoint(path, make_manifest(path, unpack_parts(all), known,
                                         {setup_.config.to_json(), position, setup_.world.size(),
                                          setup_.steps_per_epoch, setup_.versions}));
  }
  keep(path);
  set_resume_hint("last checkpoint: " + path);
}

// Rank 0 keeps the last two checkpoints: the newest, and one to fall back on.
void Checkpointer::keep(const std::string& path) {
  kept_.push_back(path);
  while (kept_.size() > 2) {
    if (setup_.world.rank() == 0) remove_checkpoint(kept_.front());
    kept_.erase(kept_.begin());
  }
}

void Checkpointer::write_final(std::span<const float> params,
                               const TrainingPosition& position) const {
  timeline::Span span("final checkpoint", "checkpoint");
  Checkpoint final_state;
  final_state.meta = {
      {"config", setup_.config.to_json()}, {"step", position.step}, {"epoch", position.epoch}};
  if (!setup_.model.is_null()) final_state.meta["model"] = setup_.model;
  final_state.tensors["params"] = {params.begin(), params.end()};
  const auto buffers = replica_.view().buffers;
  final_state.tensors["buffers"] = {buffers.begin(), buffers.end()};
  write_checkpoint(path_of("final.ckpt"), final_state);
}

Checkpointer::Restored Checkpointer::restore(const std::string& path) {
  Checkpoint checkpoint;
  try {
    checkpoint = read_checkpoint(path);
  } catch (const DataError& error) {
    throw DataError(fmt::format("--resume: {}; {}", error.what(), fallback_hint(path)));
  }
  const auto& saved = checkpoint.meta.at("config");
  const auto current = setup_.config.to_json();
  for (const char* key : {"algo", "model", "dataset", "batch_size", "seed", "servers"}) {
    // (--servers matters to methods with parts only)
    if (std::string(key) == "servers" && !is_manifest(checkpoint)) continue;
    if (saved.at(key) != current.at(key))
      throw ConfigError(fmt::format("--resume {}: the checkpoint was made with --{} {}, this run "
                                    "has {}",
                                    path, key, saved.at(key).dump(), current.at(key).dump()));
  }
  if (is_manifest(checkpoint)) return restore_parts(path, checkpoint);
  if (setup_.layout == MethodTraits::Checkpoints::in_parts)
    throw ConfigError(fmt::format("--resume {}: not a checkpoint of --algo {} (it has no parts)",
                                  path, setup_.config.algo));
  return restore_whole(path, checkpoint);
}

Checkpointer::Restored Checkpointer::restore_whole(const std::string& path,
                                                   const Checkpoint& checkpoint) {
  take_replica(checkpoint, path);
  auto position = position_from_json(checkpoint.meta);
  const int saved_nodes = checkpoint.meta.at("nodes").get<int>();
  const int nodes = setup_.world.size();
  if (saved_nodes != nodes) {
    // Synchronous replicas are identical, so the state moves to any node
    // count; the position keeps its fraction of the epoch (training_position.hpp).
    const auto saved_steps = checkpoint.meta.value("steps_per_epoch", int64_t{0});
    if (saved_steps <= 0)
      throw ConfigError(
          fmt::format("--resume {}: made on {} ranks by an older build; resume it on {} ranks",
                      path, saved_nodes, saved_nodes));
    const auto moved = rescale(position, saved_steps, setup_.steps_per_epoch);
    if (setup_.world.rank() == 0)
      fmt::print(stderr,
                 "distsgd: resuming a checkpoint of {} ranks on {}: step {} of {} per epoch "
                 "becomes step {} of {} (epoch {}); the data order differs from a run that "
                 "was not interrupted\n",
                 saved_nodes, nodes, position.step, saved_steps, moved.step,
                 setup_.steps_per_epoch, position.epoch + 1);
    position = moved;
  }
  kept_.push_back(path);
  return {position, -1};
}

// Every rank reads its own part; then all agree (one all-reduce) whether every
// part was good, so a damaged part fails the whole job alike.
Checkpointer::Restored Checkpointer::restore_parts(const std::string& path,
                                                   const Checkpoint& manifest) {
  auto& world = setup_.world;
  const int saved_nodes = manifest.meta.at("nodes").get<int>();
  if (saved_nodes != world.size())
    throw ConfigError(fmt::format(
        "--resume {}: a checkpoint of --algo {} made on {} ranks resumes on {} ranks only (each "
        "rank holds its own state); this job has {}",
        path, setup_.config.algo, saved_nodes, saved_nodes, world.size()));
  Restored restored;
  std::string failure;
  try {
    restored.position = apply_part(read_checkpoint_part(path, manifest, world.rank()), path);
  } catch (const DataError& error) {
    failure = error.what();
  } catch (const nlohmann::json::exception& error) {
    failure = fmt::format("{}: corrupt part of rank {}: {}", path, world.rank(), error.what());
  }
  int64_t bad = failure.empty() ? world.size() : world.rank();
  world.allreduce(&bad, 1, comm::DType::i64, comm::ReduceOp::min, "checkpoint parts read");
  if (bad < world.size()) {
    if (world.rank() != 0 && failure.empty())
      throw DataError(fmt::format("--resume {}: the part of rank {} is damaged", path, bad));
    if (failure.empty()) {
      try {
        read_checkpoint_part(path, manifest, static_cast<int>(bad));
        failure = fmt::format("the part of rank {} could not be read", bad);
      } catch (const std::exception& error) {
        failure = error.what();
      }
    }
    throw DataError(fmt::format("--resume: {}; {}", failure, fallback_hint(path)));
  }
  for (const auto& part : manifest.meta.at("parts")) {
    if (!part.at("step").is_null())
      restored.resumed_max_step =
          std::max(restored.resumed_max_step, part.at("step").get<int64_t>());
  }
  kept_.push_back(path);
  return restored;
}

// This rank's part: the replica and position (a worker's), then the method's
// own state. Returns the position of a worker.
std::optional<TrainingPosition> Checkpointer::apply_part(const Checkpoint& part,
                                                         const std::string& path) {
  const auto role = part.meta.at("role").get<std::string>();
  if (role != role_name(setup_.role))
    throw DataError(fmt::format("{}: the part of rank {} is a {}'s, this rank is not", path,
                                setup_.world.rank(), role));
  Checkpoint method;
  method.meta = part.meta.at("method");
  for (const auto& [name, values] : part.tensors) {
    if (name != "params" && name != "buffers" && name != "momentum")
      method.tensors.emplace(name, values);
  }
  std::optional<TrainingPosition> position;
  if (setup_.role == Role::worker) {
    take_replica(part, path);
    position = position_from_json(part.meta);
  }
  setup_.hooks->restore(replica_.view(), method);
  return position;
}

}  // namespace distsgd
