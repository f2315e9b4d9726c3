#include "train/trainer.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "algorithms/make_algorithm.hpp"
#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "core/runtime_versions.hpp"
#include "core/stop_signal.hpp"
#include "data/dataset.hpp"
#include "data/eval_subset.hpp"
#include "metrics/jsonl_writer.hpp"
#include "metrics/progress_line.hpp"
#include "models/flat_parameters.hpp"
#include "models/libtorch_version.hpp"
#include "models/model.hpp"
#include "train/checkpointer.hpp"
#include "train/consistency.hpp"
#include "train/data_feed.hpp"
#include "train/evaluation.hpp"
#include "train/evaluator.hpp"
#include "train/final_model.hpp"
#include "train/initial_model.hpp"
#include "core/fault_injection.hpp"
#include "train/gradient_buckets.hpp"
#include "train/lr_schedule.hpp"
#include "train/run_clock.hpp"
#include "train/run_summary.hpp"
#include "train/stop_agreement.hpp"
#include "train/timeline_session.hpp"
#include "train/train_step.hpp"
#include "train/training_position.hpp"

namespace distsgd {
namespace {

// The run's wiring: it builds the pieces (data, model, method, step,
// evaluator, checkpointer, stop agreement), owns the state they share (the
// replica, the position, the clock) and runs the epoch loop; each piece's
// header says what it does.
class TrainingRun {
 public:
  TrainingRun(const TrainConfig& config, comm::Communicator& comm, const RunInputs& inputs);
  TrainResult run();

 private:
  Replica replica() { return {*flat_, momentum_}; }
  // The position with the clock's times, as a checkpoint or the summary takes it.
  TrainingPosition position() const;
  void prepare_log_dir();
  void restore();
  TrainResult serve();
  // Returns whether --stop-after-epoch ended training.
  bool train_epochs(metrics::ProgressLine& progress);
  void show_progress(metrics::ProgressLine& progress);
  TrainResult stop_with_checkpoint();
  std::optional<std::pair<std::string, int64_t>> checkpoint_after_stop();
  RunFigures figures();

  TrainConfig config_;
  comm::Communicator& comm_;
  torch::Device device_;
  Role role_;
  std::optional<comm::Communicator> workers_, solo_;
  std::unique_ptr<metrics::JsonlWriter> metrics_;
  data::Datasets data_;
  std::unique_ptr<data::BatchFeed> feed_;  // the training set, prefetched (data_feed.hpp)
  std::vector<int64_t> eval_subset_;  // --eval-samples: scored during training; empty: all
  std::shared_ptr<models::Model> model_;
  std::unique_ptr<FlatParameters> flat_;
  math::MomentumState momentum_;
  std::unique_ptr<Algorithm> algorithm_;  // worker ranks
  std::unique_ptr<ServerMethod> server_;  // server ranks
  MethodTraits traits_;
  MethodCheckpoints* hooks_ = nullptr;  // the method's checkpoint hooks, if it has any
  std::unique_ptr<GradientBuckets> buckets_;
  FaultInjection faults_;
  int64_t steps_per_epoch_ = 0;
  int64_t total_steps_ = 0;  // the steps this rank runs
  std::unique_ptr<LrSchedule> schedule_;
  nlohmann::json versions_;

  RunClock clock_;
  TrainingPosition position_;  // its times are the clock's (position())
  // Checkpoints in parts: the furthest step of any worker in the checkpoint
  // resumed from; epoch ends at or before it are not checkpoints (workers
  // resumed at different steps would not all reach them).
  int64_t resumed_max_step_ = -1;
  double active_train_s_ = 0.0;  // training time up to this worker's last step
  MethodEnd method_end_;         // workers: what finish() reported

  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<StopAgreement> stop_;
  std::unique_ptr<Evaluator> evaluator_;  // workers
  std::unique_ptr<TrainStep> step_;       // workers
};

TrainingRun::TrainingRun(const TrainConfig& config, comm::Communicator& comm,
                         const RunInputs& inputs)
    : config_(config),
      comm_(comm),
      device_(training_device(config)),
      role_(role_for(config, comm.rank(), comm.size())),
      faults_(config, comm.rank()) {
  comm_.set_timeout(std::chrono::duration<double>(config.timeout_s));
  comm_.set_stall_warning(std::chrono::duration<double>(config.stall_warn_s));
  check_same_as_rank0(config, comm_);
  // Workers evaluate and average among themselves; a worker evaluating alone
  // (asynchronous methods during training) uses a group of one.
  workers_.emplace(comm_.split(role_ == Role::worker ? 0 : 1, comm_.rank(), "workers"));
  solo_.emplace(comm_.split(comm_.rank(), 0, "own rank"));
  prepare_log_dir();
  data_ = inputs.datasets ? inputs.datasets() : data::load_datasets(data_options(config));
  feed_ = make_feed(config, *data_.train);
  model_ = make_initial_model(config, *data_.train, inputs.model);
  flat_ = std::make_unique<FlatParameters>(*model_);
  if (role_ == Role::worker) {
    algorithm_ = make_worker_method(config, comm, *workers_);
    traits_ = algorithm_->traits();
    hooks_ = algorithm_->checkpoints();
  } else {
    server_ = make_server_method(config, comm);
    traits_ = server_->traits();
    hooks_ = server_->checkpoints();
  }
  if ((hooks_ == nullptr) != (traits_.checkpoints == MethodTraits::Checkpoints::none))
    throw std::logic_error("--algo " + config.algo +
                           ": its traits and its checkpoint hooks disagree");
  // Every method checkpoints, except when workers stop at different epochs.
  if (!hooks_ && !config.resume.empty())
    throw ConfigError("--resume: checkpoints of --algo " + config.algo +
                      (config.leave_early.empty()
                           ? " are not taken with --survive-worker-loss (nodes meet only at the end)"
                           : " are not taken with --leave-early (workers stop at different epochs)"));
  if (traits_.gradient_buckets) {
    buckets_ = std::make_unique<GradientBuckets>(
        *flat_, config.bucket_mb,
        [this](const GradBucket& bucket) { algorithm_->bucket_ready(bucket); });
  }
  const int64_t shard = data_.train->size() / workers_->size();
  steps_per_epoch_ = shard / config.batch_size;
  if (steps_per_epoch_ < 1)
    throw ConfigError(fmt::format(
        "--batch-size {} is larger than this worker's shard ({} samples of {} over {} workers)",
        config.batch_size, shard, data_.train->size(), workers_->size()));
  total_steps_ = steps_per_epoch_ * config.epochs;
  if (config.max_steps) total_steps_ = std::min(total_steps_, *config.max_steps);
  // --evaluations: the cadence from the run's length, the same on every worker
  // (before --leave-early shortens this one's run).
  config_.eval_every = config_.eval_interval(total_steps_);
  total_steps_ = faults_.steps_to_run(total_steps_);
  schedule_ = std::make_unique<LrSchedule>(config, workers_->size(), steps_per_epoch_);
  versions_ = runtime_versions(models::libtorch_version(), comm::Environment::library_version());

  checkpointer_ = std::make_unique<Checkpointer>(
      Checkpointer::Setup{config_, comm_, *workers_, role_, traits_.checkpoints, hooks_,
                          steps_per_epoch_, versions_,
                          describe_model(config.model, data_.train->shape(),
                                         data_.train->num_classes())},
      replica(), clock_);
  stop_ = std::make_unique<StopAgreement>(traits_.stop, *workers_);
  if (role_ != Role::worker) return;
  eval_subset_ = data::evaluation_subset(*data_.test, config_.eval_samples);
  evaluator_ = std::make_unique<Evaluator>(
      Evaluator::Setup{traits_.evaluation, *workers_, *solo_, config_.target_accuracy,
                       steps_per_epoch_},
      [this](comm::Communicator& group, bool whole_set) {
        return evaluate(*model_, *data_.test, group, config_.eval_batch_size, device_,
                        whole_set ? std::span<const int64_t>{} : eval_subset_);
      },
      *algorithm_, *metrics_, clock_);
  step_ = std::make_unique<TrainStep>(StepParts{.config = config_,
                                                .rank = comm_.rank(),
                                                .train = *feed_,
                                                .model = *model_,
                                                .device = device_,
                                                .replica = replica(),
                                                .buckets = buckets_.get(),
                                                .method = *algorithm_,
                                                .traits = traits_,
                                                .schedule = *schedule_,
                                                .faults = faults_,
                                                .metrics = *metrics_,
                                                .clock = clock_,
                                                .checkpoints = *checkpointer_});
}

TrainingPosition TrainingRun::position() const {
  TrainingPosition now = position_;
  now.train_time_s = clock_.train_s();
  now.eval_time_s = clock_.eval_s();
  return now;
}

void TrainingRun::prepare_log_dir() {
  std::error_code error;
  std::filesystem::create_directories(config_.log_dir, error);
  if (!std::filesystem::is_directory(config_.log_dir))
    throw ConfigError("--log-dir " + config_.log_dir + " cannot be created: " + error.message());
  const auto path = fmt::format("{}/metrics.rank{}.jsonl", config_.log_dir, comm_.rank());
  if (config_.resume.empty()) std::filesystem::remove(path, error);
  metrics_ = std::make_unique<metrics::JsonlWriter>(path);
}

// --resume: after the method's start(), before the clock starts.
void TrainingRun::restore() {
  const auto restored = checkpointer_->restore(config_.resume);
  if (restored.position) {
    position_ = *restored.position;
    clock_.resume_from(position_.train_time_s, position_.eval_time_s);
  }
  resumed_max_step_ = restored.resumed_max_step;
}

RunFigures TrainingRun::figures() {
  RunFigures figures;
  figures.role = role_;
  figures.position = position();
  figures.wall_s = clock_.wall_s();
  figures.checkpoint_s = clock_.checkpoint_s();
  figures.active_train_s = active_train_s_;
  if (step_) figures.step_times_s = step_->step_times();
  figures.injected_s = faults_.injected_s();
  if (evaluator_) {
    figures.final_eval = evaluator_->last();
    figures.local_eval = evaluator_->local();
  }
  figures.steps_per_epoch = steps_per_epoch_;
  figures.parameters = flat_->numel();
  figures.checkpoints = hooks_ != nullptr && config_.checkpoint_every > 0;
  figures.lost_ranks = algorithm_ ? method_end_.lost_ranks : server_->lost_ranks();
  figures.bad_images_skipped = feed_->replaced();
  figures.versions = versions_;
  return figures;
}

// A server rank: answer workers until all have finished, then take part in the
// collectives of the end (final parameters, summary figures).
TrainResult TrainingRun::serve() {
  server_->start(replica().view());
  if (!config_.resume.empty()) restore();
  clock_.start();
  server_->serve([this](int64_t epoch) {
    return checkpointer_->write_own_part(
        checkpointer_->path_of(Checkpointer::epoch_name(epoch)), position());
  });
  server_->finish();
  checkpoint_after_stop();
  TrainResult result;
  result.summary = make_summary(config_, figures(), replica().view(), comm_, *workers_,
                                [this] { return server_->summary(); });
  result.lost_ranks = server_->lost_ranks();
  metrics_->write({{"type", "server"}, {"wall_s", clock_.wall_s()}, {"figures", result.summary}});
  metrics_->flush();
  comm_.barrier("end of training");
  return result;
}

TrainResult TrainingRun::run() {
  if (role_ == Role::server) return serve();
  algorithm_->start(replica().view());
  if (!config_.resume.empty()) restore();
  metrics::ProgressLine progress(comm_.rank() == 0 && !config_.quiet);
  clock_.start();
  const bool stopped_early = train_epochs(progress);
  stop_->settle();
  if (stop_->stopped_by() && traits_.checkpoints == MethodTraits::Checkpoints::whole_file)
    return stop_with_checkpoint();
  // Training time of this worker's own steps: what a finished worker spends
  // waiting for the others is not its throughput.
  active_train_s_ = clock_.train_s();
  method_end_ = algorithm_->finish(replica().view());
  const auto stop_checkpoint = checkpoint_after_stop();
  evaluator_->evaluate(replica().view(), position_, /*final=*/true);
  progress.done();
  TrainResult result;
  result.summary = make_summary(config_, figures(), replica().view(), comm_, *workers_,
                                [this] { return algorithm_->summary(); });
  result.lost_ranks = method_end_.lost_ranks;
  result.summary["stopped_early"] = stopped_early;
  result.summary["stopped_by_signal"] = stop_->stopped_by()
                                            ? nlohmann::json(signal_name(stop_->stopped_by()))
                                            : nlohmann::json(nullptr);
  if (stop_checkpoint) {
    // As stop_with_checkpoint reports it: where to continue, after which step
    // (worker 0's).
    result.summary["checkpoint"] = stop_checkpoint->first;
    result.summary["step"] = stop_checkpoint->second;
  }
  result.step_times_s = step_->take_step_times();
  metrics_->flush();
  if (comm_.rank() == 0) {
    write_file_atomically(config_.log_dir + "/summary.json", result.summary.dump(2) + "\n");
    checkpointer_->write_final(evaluator_->final_params(replica().view()), position_);
  }
  // When train() returns on any rank, rank 0's files are complete.
  comm_.barrier("end of training");
  return result;
}

bool TrainingRun::train_epochs(metrics::ProgressLine& progress) {
  auto& at = position_;
  const int64_t last_epoch = config_.stop_after_epoch.value_or(config_.epochs);
  const EpochEnds ends{steps_per_epoch_, std::min(total_steps_, last_epoch * steps_per_epoch_),
                       resumed_max_step_,
                       !(config_.eval_every != 0 && config_.checkpoint_every == 0)};
  while (at.epoch < last_epoch && at.step < total_steps_) {
    const auto shard = data::shard_for_epoch(data_.train->size(), workers_->rank(),
                                             workers_->size(), config_.seed, at.epoch);
    feed_->plan(epoch_plan(config_, comm_.rank(), shard, at.step - at.epoch * steps_per_epoch_,
                           at.step, steps_per_epoch_, total_steps_));
    for (int64_t s = at.step - at.epoch * steps_per_epoch_;
         s < steps_per_epoch_ && at.step < total_steps_; ++s) {
      step_->run(shard, s, at);
      if (stop_->after_step()) break;
      if (config_.eval_every > 0 && at.step % config_.eval_every == 0)
        evaluator_->evaluate(replica().view(), at);
      show_progress(progress);
    }
    stop_->at_epoch_end(at.step, ends);
    if (at.step == (at.epoch + 1) * steps_per_epoch_) ++at.epoch;
    if (stop_->stopped_by()) break;
    if (config_.eval_every == 0 && at.step < total_steps_ && at.step > resumed_max_step_)
      evaluator_->evaluate(replica().view(), at);
    // A checkpoint every --checkpoint-every epochs; none is possible when a
    // worker of an asynchronous method has stopped: then this one stops too.
    if (hooks_ && config_.checkpoint_every > 0 && at.epoch % config_.checkpoint_every == 0 &&
        at.step == at.epoch * steps_per_epoch_ && at.step > resumed_max_step_ &&
        !checkpointer_->save(Checkpointer::epoch_name(at.epoch), position()))
      break;
    if (config_.stop_after_epoch && at.epoch == *config_.stop_after_epoch &&
        at.epoch < config_.epochs)
      return true;
  }
  return false;
}

void TrainingRun::show_progress(metrics::ProgressLine& progress) {
  const auto& at = position_;
  const double train_s = clock_.train_s();
  const double rate =
      static_cast<double>(at.samples) * workers_->size() / std::max(train_s, 1e-9);
  const auto& last = evaluator_->last();
  progress.update({at.epoch, config_.epochs, at.step, total_steps_, step_->loss_ema(),
                   step_->accuracy_ema(), last ? std::optional(last->accuracy) : std::nullopt,
                   schedule_->at(at.step - 1), rate,
                   train_s / static_cast<double>(std::max<int64_t>(at.step, 1)) *
                       static_cast<double>(total_steps_ - at.step)});
}

// A checkpoint where training stands, then a clean end without the final
// evaluation (a preempted node has seconds, not minutes).
TrainResult TrainingRun::stop_with_checkpoint() {
  const auto name = Checkpointer::stop_name(position_.step);
  checkpointer_->save(name, position());
  metrics_->flush();
  TrainResult result;
  result.summary = {{"stopped_by_signal", signal_name(stop_->stopped_by())},
                    {"checkpoint", checkpointer_->path_of(name)},
                    {"step", position_.step},
                    {"epoch", position_.epoch}};
  return result;
}

// Checkpoints in parts: after a SIGTERM/SIGINT stopped the workers and finish()
// has run (servers hold the shards, gossip has settled), every rank writes its
// part of the stop checkpoint, named after worker 0's step. Collective over
// the job; returns the manifest's path and that step when a rank was stopped.
std::optional<std::pair<std::string, int64_t>> TrainingRun::checkpoint_after_stop() {
  if (traits_.checkpoints != MethodTraits::Checkpoints::in_parts) return {};
  const auto stop = agree_on_job_stop(
      comm_, role_ == Role::worker ? stop_->stopped_by() : stop_signal(), position_.step);
  if (stop.signal <= 0) return {};
  if (role_ == Role::worker) stop_->adopt(stop.signal);
  return std::pair{checkpointer_->save_after_stop(stop.step, position()), stop.step};
}

}  // namespace

TrainResult train(const TrainConfig& config, comm::Communicator& comm) {
  return train(config, comm, RunInputs{});
}

TrainResult train(const TrainConfig& config, comm::Communicator& comm, const RunInputs& inputs) {
  config.validate();
  TrainingRun run(config, comm, inputs);
  TimelineSession timeline(config, comm);  // --timeline: recorded from here, written at the end
  auto result = run.run();
  timeline.finish(result.lost_ranks);
  return result;
}

}  // namespace distsgd
