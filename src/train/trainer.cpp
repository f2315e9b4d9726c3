#include "train/trainer.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "algorithms/make_algorithm.hpp"
#include "methods/update_math.hpp"
#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "models/flat_parameters.hpp"
#include "core/stop_signal.hpp"
#include "data/dataset.hpp"
#include "metrics/jsonl_writer.hpp"
#include "metrics/progress_line.hpp"
#include "models/model.hpp"
#include "train/checkpoint.hpp"
#include "train/consistency.hpp"
#include "train/evaluation.hpp"
#include "train/gradient_buckets.hpp"
#include "train/lr_schedule.hpp"
#include "train/run_clock.hpp"

namespace distsgd {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Per-batch augmentation seed: a function of (seed, rank, step) only, so a
// resumed run draws the same random crops and flips.
uint64_t augment_seed(uint64_t seed, int rank, int64_t step) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(rank) << 40) ^
               static_cast<uint64_t>(step);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  return x ^ (x >> 29);
}

std::vector<float> to_vector(std::span<const float> values) {
  return {values.begin(), values.end()};
}

void copy_into(std::span<float> target, const std::vector<float>& source, const std::string& what,
               const std::string& path) {
  if (source.size() != target.size())
    throw DataError(fmt::format("{}: checkpoint {} has {} values, the model needs {}", path, what,
                                source.size(), target.size()));
  std::copy(source.begin(), source.end(), target.begin());
}

class TrainingRun {
 public:
  TrainingRun(const TrainConfig& config, comm::Communicator& comm)
      : config_(config),
        comm_(comm),
        device_(config.device),
        role_(role_for(config, comm.rank(), comm.size())) {
    if (config.device == "cuda" && !torch::cuda::is_available())
      throw ConfigError(
          "--device cuda: this LibTorch build has no CUDA support or no GPU is visible");
    if (config.device == "cuda")
      throw ConfigError(
          "--device cuda: the flat-buffer exchange is implemented for CPU tensors only");
    comm_.set_timeout(std::chrono::duration<double>(config.timeout_s));
    comm_.set_stall_warning(std::chrono::duration<double>(config.stall_warn_s));
    check_same_as_rank0(config, comm_);
    // Workers evaluate and average among themselves; a worker evaluating alone
    // (asynchronous methods during training) uses a group of one.
    workers_.emplace(comm_.split(role_ == Role::worker ? 0 : 1, comm_.rank(), "workers"));
    solo_.emplace(comm_.split(comm_.rank(), 0, "own rank"));
    prepare_log_dir();
    data_ =
        data::load_datasets({config.dataset, config.data_dir, config.synthetic_shape, config.seed});
    torch::manual_seed(config.seed);
    model_ = models::make_model(config.model, data_.train->shape(), data_.train->num_classes());
    model_->to(device_);
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
    if (!hooks_ && !config.resume.empty())
      throw ConfigError("--resume: checkpoints of --algo " + config.algo +
                        (config.leave_early.empty()
                             ? " are not implemented yet"
                             : " are not taken with --leave-early (workers stop at different "
                               "epochs)"));
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
    if (const auto leave = config.leave_early_spec(); leave && leave->rank == comm.rank())
      total_steps_ = std::min(total_steps_, static_cast<int64_t>(leave->value));
    if (const auto nan = config.inject_nan_spec(); nan && nan->rank == comm.rank())
      nan_step_ = static_cast<int64_t>(nan->value);
    if (const auto slow = config.straggler_spec(); slow && slow->rank == comm.rank())
      slowdown_ = slow->value;
    random_delay_ = config.straggler_random_spec();
    schedule_ = std::make_unique<LrSchedule>(config, workers_->size(), steps_per_epoch_);
    hyper_ = {config.momentum, config.weight_decay, config.nesterov};
  }

  TrainResult run();

 private:
  ReplicaView replica() {
    return {flat_->param_span(), flat_->grad_span(), flat_->buffer_span(), momentum_.buffer};
  }
  void prepare_log_dir();
  void train_step(const std::vector<int64_t>& shard, int64_t step_in_epoch);
  void run_evaluation(bool final = false);
  TrainResult serve();
  EvalResult evaluate_local_replica();
  comm::Communicator& eval_comm();
  bool save_checkpoint(const std::string& name);
  bool stop_agreed();
  void agree_on_stop_at_epoch_end();
  TrainResult stop_with_checkpoint();
  std::optional<std::pair<std::string, int64_t>> checkpoint_after_stop();
  CheckpointDigest write_own_part(const std::string& manifest_path);
  void write_parts_checkpoint(const std::string& name, comm::Communicator& writers,
                              const std::vector<std::optional<CheckpointDigest>>& known);
  void keep_last_two(const std::string& path);
  nlohmann::json position_meta() const;
  void restore_position(const nlohmann::json& meta);
  void restore(const std::string& path);
  void restore_parts(const std::string& path, const Checkpoint& manifest);
  void apply_part(const Checkpoint& part, const std::string& path);
  double max_divergence(std::span<float> values, const std::string& what);
  nlohmann::json make_summary(double wall_s);
  void record_step(double loss, double accuracy);
  void inject_delay(double compute_s);

  TrainConfig config_;
  comm::Communicator& comm_;
  torch::Device device_;
  Role role_;
  std::optional<comm::Communicator> workers_, solo_;
  data::Datasets data_;
  std::shared_ptr<models::Model> model_;
  std::unique_ptr<FlatParameters> flat_;
  std::unique_ptr<Algorithm> algorithm_;   // worker ranks
  std::unique_ptr<ServerMethod> server_;  // server ranks
  MethodTraits traits_;
  MethodCheckpoints* hooks_ = nullptr;  // the method's checkpoint hooks, if it has any
  std::unique_ptr<GradientBuckets> buckets_;
  std::unique_ptr<LrSchedule> schedule_;
  math::SgdHyper hyper_;
  math::MomentumState momentum_;
  std::unique_ptr<metrics::JsonlWriter> metrics_;

  int64_t steps_per_epoch_ = 0;
  int64_t total_steps_ = 0;
  int64_t step_ = 0;   // global step of this rank, the next one to run
  int64_t epoch_ = 0;  // current epoch
  int64_t samples_ = 0;
  double slowdown_ = 1.0;                                 // --straggler factor of this rank
  std::optional<TrainConfig::RandomDelay> random_delay_;  // --straggler-random
  double injected_s_ = 0.0;
  std::optional<int64_t> nan_step_;  // --inject-nan on this rank
  int64_t skipped_steps_ = 0;        // --nan-policy skip: updates dropped
  // SIGTERM/SIGINT: synchronous workers agree on the step to stop at with a
  // one-number all-reduce per step, started after a step and read after the next.
  comm::Request stop_vote_;
  int64_t stop_vote_value_ = 0;
  int stopped_by_ = 0;  // the signal that stopped training, or 0
  // Asynchronous methods: another worker stopped, so there is no checkpoint
  // at this epoch's end and this worker stops too.
  bool stopped_by_peer_ = false;
  // Checkpoints in parts: the furthest step of any worker in the checkpoint
  // resumed from; epoch ends at or before it are not checkpoints (workers
  // resumed at different steps would not all reach them).
  int64_t resumed_max_step_ = -1;
  double active_train_s_ = 0.0;          // training time up to this worker's last step
  bool finished_ = false;                // finish() done: evaluations are collective again
  std::vector<float> evaluated_params_;  // what the last evaluation scored, when not the replica
  std::optional<EvalResult> local_eval_;
  RunClock clock_;
  std::vector<double> step_times_;
  std::vector<std::string> checkpoints_;

  double loss_ema_ = 0.0, accuracy_ema_ = 0.0;
  std::optional<EvalResult> last_eval_;
  double best_accuracy_ = 0.0;
  std::optional<double> time_to_target_s_;
  std::optional<double> epochs_to_target_;
};

void TrainingRun::prepare_log_dir() {
  std::error_code error;
  std::filesystem::create_directories(config_.log_dir, error);
  if (!std::filesystem::is_directory(config_.log_dir))
    throw ConfigError("--log-dir " + config_.log_dir + " cannot be created: " + error.message());
  const auto path = fmt::format("{}/metrics.rank{}.jsonl", config_.log_dir, comm_.rank());
  if (config_.resume.empty()) std::filesystem::remove(path, error);
  metrics_ = std::make_unique<metrics::JsonlWriter>(path);
}

// A server rank: answer workers until all have finished, then take part in the
// collectives of the end (final parameters, summary figures).
TrainResult TrainingRun::serve() {
  server_->start(replica());
  if (!config_.resume.empty()) restore(config_.resume);
  clock_.start();
  server_->serve([this](int64_t epoch) {
    return write_own_part(config_.log_dir + "/" + fmt::format("checkpoint-epoch{}.ckpt", epoch));
  });
  server_->finish();
  checkpoint_after_stop();
  TrainResult result;
  result.summary = make_summary(clock_.wall_s());
  result.lost_ranks = server_->lost_ranks();
  metrics_->write({{"type", "server"}, {"wall_s", clock_.wall_s()}, {"figures", result.summary}});
  metrics_->flush();
  comm_.barrier("end of training");
  return result;
}

TrainResult TrainingRun::run() {
  if (role_ == Role::server) return serve();
  algorithm_->start(replica());
  if (!config_.resume.empty()) restore(config_.resume);
  metrics::ProgressLine progress(comm_.rank() == 0 && !config_.quiet);
  clock_.start();

  const int64_t last_epoch = config_.stop_after_epoch.value_or(config_.epochs);
  bool stopped_early = false;
  while (epoch_ < last_epoch && step_ < total_steps_) {
    const auto shard = data::shard_for_epoch(data_.train->size(), workers_->rank(),
                                             workers_->size(), config_.seed, epoch_);
    for (int64_t s = step_ - epoch_ * steps_per_epoch_;
         s < steps_per_epoch_ && step_ < total_steps_; ++s) {
      train_step(shard, s);
      if (stop_agreed()) break;
      if (config_.eval_every > 0 && step_ % config_.eval_every == 0) run_evaluation();
      const double train_s = clock_.train_s();
      const double rate =
          static_cast<double>(samples_) * workers_->size() / std::max(train_s, 1e-9);
      progress.update({epoch_, config_.epochs, step_, total_steps_, loss_ema_, accuracy_ema_,
                       last_eval_ ? std::optional(last_eval_->accuracy) : std::nullopt,
                       schedule_->at(step_ - 1), rate,
                       train_s / static_cast<double>(std::max<int64_t>(step_, 1)) *
                           static_cast<double>(total_steps_ - step_)});
    }
    agree_on_stop_at_epoch_end();
    if (step_ == (epoch_ + 1) * steps_per_epoch_) ++epoch_;
    if (stopped_by_) break;
    if (config_.eval_every == 0 && step_ < total_steps_ && step_ > resumed_max_step_)
      run_evaluation();
    if (hooks_ && config_.checkpoint_every > 0 &&
        epoch_ % config_.checkpoint_every == 0 && step_ == epoch_ * steps_per_epoch_ &&
        step_ > resumed_max_step_ &&
        !save_checkpoint(fmt::format("checkpoint-epoch{}.ckpt", epoch_))) {
      stopped_by_peer_ = true;
      break;
    }
    if (config_.stop_after_epoch && epoch_ == *config_.stop_after_epoch &&
        epoch_ < config_.epochs) {
      stopped_early = true;
      break;
    }
  }
  if (stop_vote_.valid()) stop_vote_.wait();  // every worker started it: finish it alike
  if (stopped_by_ && traits_.checkpoints == MethodTraits::Checkpoints::whole_file)
    return stop_with_checkpoint();
  // Training time of this worker's own steps: what a finished worker spends
  // waiting for the others is not its throughput.
  active_train_s_ = clock_.train_s();
  algorithm_->finish(replica());
  finished_ = true;
  const auto stop_checkpoint = checkpoint_after_stop();
  run_evaluation(true);
  progress.done();
  const double wall_s = clock_.wall_s();
  TrainResult result;
  result.summary = make_summary(wall_s);
  result.lost_ranks = algorithm_->lost_ranks();
  result.summary["stopped_early"] = stopped_early;
  result.summary["stopped_by_signal"] =
      stopped_by_ ? nlohmann::json(signal_name(stopped_by_)) : nlohmann::json(nullptr);
  if (stop_checkpoint) {
    // As stop_with_checkpoint reports it: where to continue, after which step
    // (worker 0's).
    result.summary["checkpoint"] = stop_checkpoint->first;
    result.summary["step"] = stop_checkpoint->second;
  }
  result.step_times_s = std::move(step_times_);
  metrics_->flush();
  if (comm_.rank() == 0) {
    write_file_atomically(config_.log_dir + "/summary.json", result.summary.dump(2) + "\n");
    Checkpoint final_state;
    final_state.meta = {{"config", config_.to_json()}, {"step", step_}, {"epoch", epoch_}};
    final_state.tensors["params"] =
        evaluated_params_.empty() ? to_vector(flat_->param_span()) : evaluated_params_;
    final_state.tensors["buffers"] = to_vector(flat_->buffer_span());
    write_checkpoint(config_.log_dir + "/final.ckpt", final_state);
  }
  // When train() returns on any rank, rank 0's files are complete.
  comm_.barrier("end of training");
  return result;
}

void TrainingRun::train_step(const std::vector<int64_t>& shard, int64_t step_in_epoch) {
  const auto started = Clock::now();
  const std::span<const int64_t> indices(shard.data() + step_in_epoch * config_.batch_size,
                                         static_cast<std::size_t>(config_.batch_size));
  auto batch = data_.train->batch(
      indices, config_.augment ? std::optional(augment_seed(config_.seed, comm_.rank(), step_))
                               : std::nullopt);
  auto inputs = batch.inputs.to(device_);
  auto targets = batch.targets.to(device_);

  flat_->zero_grads();
  if (buckets_) buckets_->begin_step();
  auto logits = model_->forward(inputs);
  auto loss = torch::nn::functional::cross_entropy(logits, targets);
  if (nan_step_ && *nan_step_ == step_) loss = loss * std::numeric_limits<double>::quiet_NaN();
  loss.backward();
  if (buckets_) buckets_->end_backward();
  inject_delay(seconds_since(started));

  const StepInfo info{step_, epoch_, schedule_->at(step_)};
  const double loss_value = loss.item<double>();
  const bool finite_loss = std::isfinite(loss_value);
  if (!finite_loss && config_.nan_policy == "stop")
    throw RuntimeFailure(fmt::format(
        "loss is {} at step {} (epoch {}) on rank {}{}{}", loss_value, step_, epoch_ + 1,
        comm_.rank(),
        checkpoints_.empty() ? std::string() : "; last good checkpoint: " + checkpoints_.back(),
        !traits_.stale_updates
            ? ""
            : " (asynchronous updates add momentum of their own: try a lower "
              "--lr or --momentum)"));
  // --nan-policy skip: a non-finite gradient is replaced by zeros before the
  // method sees it, and this rank's own update is dropped. Synchronous workers
  // all see the same averaged gradient, so they all drop the same step.
  // (A bucketed method has its exchange in flight already: it drops the step
  // by the check of the averaged gradient below.)
  if (!finite_loss && !traits_.gradient_buckets) flat_->zero_grads();
  algorithm_->before_step(replica(), info);
  const bool skip =
      config_.nan_policy == "skip" && (!finite_loss || !math::all_finite(flat_->grad_span()));
  if (skip) {
    ++skipped_steps_;
    fmt::print(stderr, "distsgd: rank {}: {} at step {}: update skipped (--nan-policy skip)\n",
               comm_.rank(), finite_loss ? "non-finite gradient" : "non-finite loss", step_);
  }
  if (!traits_.applies_update && !skip)
    math::sgd_step(flat_->param_span(), flat_->grad_span(), momentum_, hyper_, info.lr);
  algorithm_->after_step(replica(), info);

  ++step_;
  samples_ += config_.batch_size;
  step_times_.push_back(seconds_since(started));
  const double accuracy = logits.argmax(1).eq(targets).to(torch::kFloat64).mean().item<double>();
  if (finite_loss) record_step(loss_value, accuracy);
  metrics_->write({{"type", "step"},
                   {"step", step_},
                   {"epoch", epoch_},
                   {"wall_s", clock_.wall_s()},
                   {"loss", loss_value},
                   {"lr", info.lr},
                   {"samples", samples_}});
}

// --straggler: this rank computes `slowdown_` times slower than it does;
// --straggler-random: a delay with some probability, drawn from (seed, rank, step).
void TrainingRun::inject_delay(double compute_s) {
  double delay_s = slowdown_ > 1.0 ? (slowdown_ - 1.0) * compute_s : 0.0;
  if (random_delay_) {
    const double draw =
        static_cast<double>(augment_seed(config_.seed ^ 0x5157u, comm_.rank(), step_) >> 11) *
        0x1.0p-53;
    if (draw < random_delay_->probability) delay_s += random_delay_->ms / 1000.0;
  }
  if (delay_s <= 0) return;
  std::this_thread::sleep_for(std::chrono::duration<double>(delay_s));
  injected_s_ += delay_s;
}

void TrainingRun::record_step(double loss, double accuracy) {
  const double weight = step_ == 1 ? 1.0 : 0.05;
  loss_ema_ += weight * (loss - loss_ema_);
  accuracy_ema_ += weight * (accuracy - accuracy_ema_);
}

// During training, asynchronous methods evaluate on worker 0 alone (workers
// may be at different steps); at the end every worker takes part.
comm::Communicator& TrainingRun::eval_comm() {
  return traits_.evaluation == MethodTraits::Evaluation::every_worker || finished_ ? *workers_
                                                                                   : *solo_;
}

void TrainingRun::run_evaluation(bool final) {
  if (&eval_comm() == &*solo_ && workers_->rank() != 0) return;
  auto pause = clock_.pause_for_evaluation();
  auto view = replica();
  std::vector<float> own_params, own_buffers, eval_params(view.params.size()),
      eval_buffers(view.buffers.size());
  const auto target = algorithm_->prepare_evaluation(view, {eval_params, {}, eval_buffers, {}});
  const bool swapped = target.uses_out;
  if (swapped) {
    own_params = to_vector(view.params);
    own_buffers = to_vector(view.buffers);
    std::copy(eval_params.begin(), eval_params.end(), view.params.begin());
    std::copy(eval_buffers.begin(), eval_buffers.end(), view.buffers.begin());
  }
  last_eval_ = evaluate(*model_, *data_.test, eval_comm(), config_.eval_batch_size, device_,
                        config_.eval_samples);
  if (final && swapped) evaluated_params_ = eval_params;
  if (swapped) {
    std::copy(own_params.begin(), own_params.end(), view.params.begin());
    std::copy(own_buffers.begin(), own_buffers.end(), view.buffers.begin());
  }
  if (final) local_eval_ = swapped ? evaluate_local_replica() : *last_eval_;
  best_accuracy_ = std::max(best_accuracy_, last_eval_->accuracy);
  const double train_s = clock_.train_s();
  if (config_.target_accuracy && !time_to_target_s_ &&
      last_eval_->accuracy >= *config_.target_accuracy) {
    time_to_target_s_ = train_s;
    epochs_to_target_ = static_cast<double>(step_) / static_cast<double>(steps_per_epoch_);
  }
  metrics_->write(
      {{"type", "eval"},
       {"step", step_},
       {"epoch", epoch_},
       {"epochs_done", static_cast<double>(step_) / static_cast<double>(steps_per_epoch_)},
       {"wall_s", clock_.wall_s()},
       {"train_time_s", train_s},
       {"test_accuracy", last_eval_->accuracy},
       {"test_loss", last_eval_->loss},
       {"method", target.figures}});
}

// The test accuracy of worker 0's own replica, scored by all workers.
EvalResult TrainingRun::evaluate_local_replica() {
  auto view = replica();
  const auto own_params = to_vector(view.params), own_buffers = to_vector(view.buffers);
  workers_->broadcast(view.params.data(), view.params.size_bytes(), 0, "worker 0's parameters");
  if (!view.buffers.empty())
    workers_->broadcast(view.buffers.data(), view.buffers.size_bytes(), 0, "worker 0's buffers");
  const auto result = evaluate(*model_, *data_.test, *workers_, config_.eval_batch_size, device_,
                               config_.eval_samples);
  std::copy(own_params.begin(), own_params.end(), view.params.begin());
  std::copy(own_buffers.begin(), own_buffers.end(), view.buffers.begin());
  return result;
}

// SIGTERM/SIGINT seen (on any worker, for lockstep methods): stop now.
// Other workers stop on their own, as a worker leaving the job does.
bool TrainingRun::stop_agreed() {
  if (traits_.stop != MethodTraits::StopAgreement::every_step) {
    stopped_by_ = stop_signal();
    return stopped_by_ != 0;
  }
  if (stop_vote_.valid()) {
    stop_vote_.wait();
    stop_vote_ = {};
    if (stop_vote_value_ > 0) {
      stopped_by_ = static_cast<int>(stop_vote_value_);
      return true;
    }
  }
  stop_vote_value_ = stop_signal();
  stop_vote_ = workers_->iallreduce(&stop_vote_value_, 1, comm::DType::i64, comm::ReduceOp::max,
                                    "stop vote");
  return false;
}

// Methods with collective evaluations at epoch ends whose workers stop on
// their own (gossip): a worker stopped by a signal waits at the next epoch end
// that the others reach (if they reach one before training ends), and there
// every worker votes, so all stop together rather than wait in an evaluation
// or checkpoint for one that has left. One small all-reduce per epoch.
void TrainingRun::agree_on_stop_at_epoch_end() {
  if (traits_.stop != MethodTraits::StopAgreement::epoch_end) return;
  // No evaluation and no checkpoint at epoch ends: nothing there to wait in,
  // and a vote would make every worker wait for the slowest once an epoch.
  if (config_.eval_every != 0 && config_.checkpoint_every == 0) return;
  // The next epoch end at or after this worker's step that every worker
  // reaches (a resumed run skips those at or before any worker's saved step).
  int64_t boundary = (step_ + steps_per_epoch_ - 1) / steps_per_epoch_ * steps_per_epoch_;
  while (boundary <= resumed_max_step_) boundary += steps_per_epoch_;
  const int64_t last_epoch = config_.stop_after_epoch.value_or(config_.epochs);
  if (boundary > total_steps_ || boundary > last_epoch * steps_per_epoch_) return;
  if (!stopped_by_ && step_ != boundary) return;
  int64_t vote = stopped_by_ ? stopped_by_ : stop_signal();
  workers_->allreduce(&vote, 1, comm::DType::i64, comm::ReduceOp::max, "stop vote at epoch end");
  if (vote > 0) stopped_by_ = static_cast<int>(vote);
}

// A checkpoint where training stands, then a clean end without the final
// evaluation (a preempted node has seconds, not minutes).
TrainResult TrainingRun::stop_with_checkpoint() {
  const auto name = fmt::format("checkpoint-step{}.ckpt", step_);
  save_checkpoint(name);
  const auto path = config_.log_dir + "/" + name;
  metrics_->flush();
  TrainResult result;
  result.summary = {{"stopped_by_signal", signal_name(stopped_by_)},
                    {"checkpoint", path},
                    {"step", step_},
                    {"epoch", epoch_}};
  return result;
}

// Every `checkpoint_every` epochs. One file by rank 0 (synchronous methods), or
// in parts: the method first brings the job to a quiescent point. Returns false
// when a worker of an asynchronous method has stopped, so no checkpoint is
// possible: the caller stops too.
bool TrainingRun::save_checkpoint(const std::string& name) {
  auto pause = clock_.pause_for_evaluation();
  const auto path = config_.log_dir + "/" + name;
  const auto servers = hooks_->prepare(replica(), epoch_, step_);
  if (traits_.checkpoints == MethodTraits::Checkpoints::in_parts) {
    if (!servers) return false;
    write_parts_checkpoint(name, *workers_, *servers);
    return true;
  }
  if (comm_.rank() == 0) {
    Checkpoint checkpoint;
    checkpoint.meta = position_meta();
    checkpoint.meta.update({{"config", config_.to_json()},
                            {"nodes", comm_.size()},
                            {"steps_per_epoch", steps_per_epoch_},
                            {"versions", runtime_versions()}});
    checkpoint.tensors["params"] = to_vector(flat_->param_span());
    checkpoint.tensors["buffers"] = to_vector(flat_->buffer_span());
    checkpoint.tensors["momentum"] = momentum_.buffer;
    write_checkpoint(path, checkpoint);
  }
  keep_last_two(path);
  comm_.barrier("after writing checkpoint " + path);
  set_resume_hint("last checkpoint: " + path);
  return true;
}

// Where this worker stands in training, as a checkpoint records it.
nlohmann::json TrainingRun::position_meta() const {
  return {{"step", step_},
          {"epoch", epoch_},
          {"samples", samples_},
          {"train_time_s", clock_.train_s()},
          {"eval_time_s", clock_.eval_s()},
          {"best_test_accuracy", best_accuracy_},
          {"time_to_target_s", time_to_target_s_ ? nlohmann::json(*time_to_target_s_) : nullptr},
          {"epochs_to_target", epochs_to_target_ ? nlohmann::json(*epochs_to_target_) : nullptr},
          {"skipped_steps", skipped_steps_}};
}

// The inverse of position_meta().
void TrainingRun::restore_position(const nlohmann::json& meta) {
  step_ = meta.at("step").get<int64_t>();
  epoch_ = meta.at("epoch").get<int64_t>();
  samples_ = meta.at("samples").get<int64_t>();
  skipped_steps_ = meta.value("skipped_steps", int64_t{0});
  best_accuracy_ = meta.at("best_test_accuracy").get<double>();
  if (!meta.at("time_to_target_s").is_null())
    time_to_target_s_ = meta.at("time_to_target_s").get<double>();
  if (!meta.at("epochs_to_target").is_null())
    epochs_to_target_ = meta.at("epochs_to_target").get<double>();
  clock_.resume_from(meta.at("train_time_s").get<double>(), meta.at("eval_time_s").get<double>());
}

// What to say when --resume PATH is damaged: the checkpoint to use instead.
std::string fallback_hint(const std::string& path) {
  const auto fallback = newest_good_checkpoint(path);
  return fallback ? fmt::format("the previous good checkpoint is {} (resume with --resume {})",
                                *fallback, *fallback)
                  : std::string("there is no other good checkpoint beside it");
}

// Rank 0 keeps the last two checkpoints: the newest, and one to fall back on.
void TrainingRun::keep_last_two(const std::string& path) {
  checkpoints_.push_back(path);
  if (comm_.rank() != 0) return;
  while (checkpoints_.size() > 2) {
    remove_checkpoint(checkpoints_.front());
    checkpoints_.erase(checkpoints_.begin());
  }
}

// This rank's part of the checkpoint whose manifest is `manifest_path`: its
// replica and position (workers) and the method's state (servers: all of it).
CheckpointDigest TrainingRun::write_own_part(const std::string& manifest_path) {
  const auto method = hooks_->state(replica());
  Checkpoint part;
  part.meta = {{"part_of", std::filesystem::path(manifest_path).filename().string()},
               {"rank", comm_.rank()},
               {"role", role_ == Role::worker ? "worker" : "server"},
               {"method", method.meta}};
  part.tensors = method.tensors;
  if (role_ == Role::worker) {
    part.meta.update(position_meta());
    part.tensors["params"] = to_vector(flat_->param_span());
    part.tensors["buffers"] = to_vector(flat_->buffer_span());
    part.tensors["momentum"] = momentum_.buffer;
  }
  return write_checkpoint(checkpoint_part_path(manifest_path, comm_.rank()), part);
}

// Every rank of `writers` writes its part; rank 0 then writes the manifest,
// listing those parts and the `known` ones (written by servers meanwhile), so
// the manifest exists only once every part does.
void TrainingRun::write_parts_checkpoint(const std::string& name, comm::Communicator& writers,
                                         const std::vector<std::optional<CheckpointDigest>>& known) {
  const auto path = config_.log_dir + "/" + name;
  const auto own = write_own_part(path);
  std::vector<int64_t> mine = {comm_.rank(), static_cast<int64_t>(own.bytes), own.crc,
                               role_ == Role::worker ? step_ : int64_t{-1}},
                       all(mine.size() * static_cast<std::size_t>(writers.size()));
  writers.allgather(mine.data(), all.data(), mine.size() * sizeof(int64_t),
                    "checkpoint part digests");
  if (comm_.rank() == 0) {
    std::vector<nlohmann::json> parts(static_cast<std::size_t>(comm_.size()));
    const auto entry = [&](int64_t rank, int64_t bytes, int64_t crc, int64_t step) {
      parts.at(static_cast<std::size_t>(rank)) = {
          {"rank", rank},
          {"file", std::filesystem::path(checkpoint_part_path(path, static_cast<int>(rank)))
                       .filename()
                       .string()},
          {"bytes", bytes},
          {"crc", crc},
          {"role", step >= 0 ? "worker" : "server"},
          {"step", step >= 0 ? nlohmann::json(step) : nlohmann::json(nullptr)}};
    };
    for (std::size_t i = 0; i < all.size(); i += 4)
      entry(all[i], all[i + 1], all[i + 2], all[i + 3]);
    for (std::size_t rank = 0; rank < known.size(); ++rank) {
      if (known[rank])
        entry(static_cast<int64_t>(rank), static_cast<int64_t>(known[rank]->bytes),
              known[rank]->crc, -1);
    }
    for (std::size_t rank = 0; rank < parts.size(); ++rank) {
      if (parts[rank].is_null())
        throw RuntimeFailure(fmt::format("checkpoint {}: rank {} wrote no part", path, rank));
    }
    Checkpoint manifest;
    manifest.meta = {{"config", config_.to_json()},
                     {"step", step_},
                     {"epoch", epoch_},
                     {"nodes", comm_.size()},
                     {"steps_per_epoch", steps_per_epoch_},
                     {"parts", parts},
                     {"versions", runtime_versions()}};
    write_checkpoint(path, manifest);
  }
  keep_last_two(path);
  set_resume_hint("last checkpoint: " + path);
}

// Checkpoints in parts: after a SIGTERM/SIGINT stopped the workers and finish()
// has run (servers hold the shards, gossip has settled), every rank writes its
// part of checkpoint-stepN.ckpt (N: worker 0's step). Collective over the job;
// returns the manifest's path and N when a worker (or server) was stopped.
std::optional<std::pair<std::string, int64_t>> TrainingRun::checkpoint_after_stop() {
  if (traits_.checkpoints != MethodTraits::Checkpoints::in_parts || !hooks_) return {};
  int64_t agreed[2] = {role_ == Role::worker ? stopped_by_ : stop_signal(),
                       comm_.rank() == 0 ? step_ : int64_t{0}};
  comm_.allreduce(agreed, 2, comm::DType::i64, comm::ReduceOp::max, "stop agreement");
  if (agreed[0] <= 0) return {};
  if (role_ == Role::worker && !stopped_by_) stopped_by_ = static_cast<int>(agreed[0]);
  auto pause = clock_.pause_for_evaluation();
  const auto name = fmt::format("checkpoint-step{}.ckpt", agreed[1]);
  write_parts_checkpoint(name, comm_, {});
  return std::pair{config_.log_dir + "/" + name, agreed[1]};
}

void TrainingRun::restore(const std::string& path) {
  Checkpoint checkpoint;
  try {
    checkpoint = read_checkpoint(path);
  } catch (const DataError& error) {
    throw DataError(fmt::format("--resume: {}; {}", error.what(), fallback_hint(path)));
  }
  const auto& saved = checkpoint.meta.at("config");
  for (const char* key : {"algo", "model", "dataset", "batch_size", "seed", "servers"}) {
    // (--servers matters to methods with parts only)
    if (std::string(key) == "servers" && !is_manifest(checkpoint)) continue;
    if (saved.at(key) != config_.to_json().at(key))
      throw ConfigError(
          fmt::format("--resume {}: the checkpoint was made with --{} {}, this run has {}", path,
                      key, saved.at(key).dump(), config_.to_json().at(key).dump()));
  }
  if (is_manifest(checkpoint)) return restore_parts(path, checkpoint);
  if (traits_.checkpoints == MethodTraits::Checkpoints::in_parts)
    throw ConfigError(fmt::format("--resume {}: not a checkpoint of --algo {} (it has no parts)",
                                  path, config_.algo));
  copy_into(flat_->param_span(), checkpoint.tensors.at("params"), "parameters", path);
  copy_into(flat_->buffer_span(), checkpoint.tensors.at("buffers"), "buffers", path);
  momentum_.buffer = checkpoint.tensors.at("momentum");
  restore_position(checkpoint.meta);
  const int saved_nodes = checkpoint.meta.at("nodes").get<int>();
  if (saved_nodes != comm_.size()) {
    // Synchronous replicas are identical, so the state moves to any node
    // count; the position in the epoch keeps its fraction (each worker's shard,
    // and so the number of steps in an epoch, depends on the number of workers).
    const auto saved_steps = checkpoint.meta.value("steps_per_epoch", int64_t{0});
    if (saved_steps <= 0)
      throw ConfigError(
          fmt::format("--resume {}: made on {} ranks by an older build; resume it on {} ranks",
                      path, saved_nodes, saved_nodes));
    const double fraction =
        static_cast<double>(step_ - epoch_ * saved_steps) / static_cast<double>(saved_steps);
    const int64_t moved =
        epoch_ * steps_per_epoch_ + static_cast<int64_t>(std::llround(fraction * steps_per_epoch_));
    if (comm_.rank() == 0)
      fmt::print(stderr,
                 "distsgd: resuming a checkpoint of {} ranks on {}: step {} of {} per epoch "
                 "becomes step {} of {} (epoch {}); the data order differs from a run that "
                 "was not interrupted\n",
                 saved_nodes, comm_.size(), step_, saved_steps, moved, steps_per_epoch_,
                 epoch_ + 1);
    step_ = moved;
  }
  checkpoints_.push_back(path);
}

// Checkpoints in parts: every rank reads its own part; then all agree (one
// all-reduce) whether every part was good, so a damaged part fails the whole
// job alike, naming that part and the previous good checkpoint.
void TrainingRun::restore_parts(const std::string& path, const Checkpoint& manifest) {
  const int saved_nodes = manifest.meta.at("nodes").get<int>();
  if (saved_nodes != comm_.size())
    throw ConfigError(fmt::format(
        "--resume {}: a checkpoint of --algo {} made on {} ranks resumes on {} ranks only (each "
        "rank holds its own state); this job has {}",
        path, config_.algo, saved_nodes, saved_nodes, comm_.size()));
  std::string failure;
  try {
    apply_part(read_checkpoint_part(path, manifest, comm_.rank()), path);
  } catch (const DataError& error) {
    failure = error.what();
  } catch (const nlohmann::json::exception& error) {
    failure = fmt::format("{}: corrupt part of rank {}: {}", path, comm_.rank(), error.what());
  }
  int64_t bad = failure.empty() ? comm_.size() : comm_.rank();
  comm_.allreduce(&bad, 1, comm::DType::i64, comm::ReduceOp::min, "checkpoint parts read");
  if (bad < comm_.size()) {
    if (comm_.rank() != 0 && failure.empty())
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
      resumed_max_step_ = std::max(resumed_max_step_, part.at("step").get<int64_t>());
  }
  checkpoints_.push_back(path);
}

void TrainingRun::apply_part(const Checkpoint& part, const std::string& path) {
  const auto role = part.meta.at("role").get<std::string>();
  if (role != (role_ == Role::worker ? "worker" : "server"))
    throw DataError(fmt::format("{}: the part of rank {} is a {}'s, this rank is not", path,
                                comm_.rank(), role));
  Checkpoint method;
  method.meta = part.meta.at("method");
  for (const auto& [name, values] : part.tensors) {
    if (name != "params" && name != "buffers" && name != "momentum")
      method.tensors.emplace(name, values);
  }
  if (role_ == Role::worker) {
    copy_into(flat_->param_span(), part.tensors.at("params"), "parameters", path);
    copy_into(flat_->buffer_span(), part.tensors.at("buffers"), "buffers", path);
    momentum_.buffer = part.tensors.at("momentum");
    restore_position(part.meta);
  }
  hooks_->restore(replica(), method);
}

// The largest max-abs difference between any worker's `values` and worker 0's.
double TrainingRun::max_divergence(std::span<float> values, const std::string& what) {
  std::vector<float> reference = to_vector(values);
  workers_->broadcast(reference.data(), reference.size() * sizeof(float), 0, "worker 0's " + what);
  double divergence = math::max_abs_difference(values, reference);
  workers_->allreduce(&divergence, 1, comm::DType::f64, comm::ReduceOp::max, what + " divergence");
  return divergence;
}

// Collective over the job; rank 0 (always a worker) returns the full summary.
nlohmann::json TrainingRun::make_summary(double wall_s) {
  // samples_per_s sums each worker's own rate (its samples over its own training
  // time): with synchronous steps it is the job's rate; with asynchronous ones a
  // straggler lowers it by its own share only.
  double totals[3] = {static_cast<double>(samples_), static_cast<double>(step_),
                      active_train_s_ > 0 ? static_cast<double>(samples_) / active_train_s_ : 0.0};
  comm_.allreduce(totals, 3, comm::DType::f64, comm::ReduceOp::sum, "sample counts");
  if (role_ == Role::server) return {{"method", server_->summary()}};

  const double divergence = max_divergence(flat_->param_span(), "parameters");
  const double buffer_divergence = max_divergence(flat_->buffer_span(), "buffers");
  std::vector<double> sorted = step_times_;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.empty() ? 0.0 : sorted[sorted.size() / 2];
  // Per worker: steps taken, median step time and injected delay, to see
  // stragglers and early leavers.
  std::vector<double> own = {static_cast<double>(step_), median, injected_s_,
                             static_cast<double>(skipped_steps_)},
                      all(4 * workers_->size());
  workers_->allgather(own.data(), all.data(), own.size() * sizeof(double), "per-worker figures");
  std::vector<int64_t> worker_steps;
  std::vector<int64_t> worker_skipped;
  std::vector<double> worker_medians, worker_injected;
  for (int w = 0; w < workers_->size(); ++w) {
    worker_steps.push_back(static_cast<int64_t>(all[4 * w]));
    worker_medians.push_back(all[4 * w + 1]);
    worker_injected.push_back(all[4 * w + 2]);
    worker_skipped.push_back(static_cast<int64_t>(all[4 * w + 3]));
  }
  const double train_s = clock_.train_s();
  nlohmann::json summary = {
      {"algo", config_.algo},
      {"model", config_.model},
      {"dataset", config_.dataset},
      {"nodes", comm_.size()},
      {"workers", workers_->size()},
      {"servers", comm_.size() - workers_->size()},
      {"epochs", static_cast<double>(step_) / static_cast<double>(steps_per_epoch_)},
      {"steps", step_},
      {"worker_steps", worker_steps},
      {"wall_time_s", wall_s},
      {"train_time_s", train_s},
      {"eval_time_s", clock_.eval_s()},
      {"samples_per_s", totals[2]},
      {"job_samples_per_s", totals[0] / std::max(train_s, 1e-9)},
      {"step_time_median_s", median},
      {"worker_step_time_median_s", worker_medians},
      {"final_test_accuracy", last_eval_->accuracy},
      {"final_test_loss", last_eval_->loss},
      {"final_local_test_accuracy", local_eval_ ? nlohmann::json(local_eval_->accuracy) : nullptr},
      {"best_test_accuracy", best_accuracy_},
      {"time_to_target_s", time_to_target_s_ ? nlohmann::json(*time_to_target_s_) : nullptr},
      {"epochs_to_target", epochs_to_target_ ? nlohmann::json(*epochs_to_target_) : nullptr},
      {"target_accuracy",
       config_.target_accuracy ? nlohmann::json(*config_.target_accuracy) : nullptr},
      {"max_param_divergence", divergence},
      {"max_buffer_divergence", buffer_divergence},
      {"staleness_mean", nullptr},
      {"staleness_max", nullptr},
      {"server_updates_per_s", nullptr},
      {"consensus_distance", nullptr},
      {"checkpoints", hooks_ != nullptr && config_.checkpoint_every > 0},
      {"skipped_steps", worker_skipped},  // per worker: updates dropped by --nan-policy skip
      {"nan_policy", config_.nan_policy},
      {"straggler", config_.straggler.empty() && config_.straggler_random.empty()
                        ? nlohmann::json(nullptr)
                        : nlohmann::json{{"spec", config_.straggler},
                                         {"random", config_.straggler_random},
                                         {"injected_s_per_worker", worker_injected}}},
      {"lost_ranks", algorithm_->lost_ranks()},
      {"leave_early",
       config_.leave_early.empty() ? nlohmann::json(nullptr) : nlohmann::json(config_.leave_early)},
      {"parameters", flat_->numel()},
      {"config", config_.to_json()},
      {"versions", runtime_versions()}};
  const auto method = algorithm_->summary();
  // The figures every method comparison reads sit at the top level too.
  for (const char* key :
       {"staleness_mean", "staleness_max", "server_updates_per_s", "consensus_distance"}) {
    if (method.contains(key)) summary[key] = method.at(key);
  }
  summary["method"] = method;
  return summary;
}

}  // namespace

TrainResult train(const TrainConfig& config, comm::Communicator& comm) {
  config.validate();
  TrainingRun run(config, comm);
  return run.run();
}

nlohmann::json runtime_versions() {
  return {{"distsgd", DISTSGD_VERSION_STRING},
          {"libtorch",
           fmt::format("{}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH)},
          {"mpi", comm::Environment::library_version()},
          {"compiler", __VERSION__}};
}

}  // namespace distsgd
