#pragma once
// Every setting of a training run. The CLI fills it from flags (`distsgd train
// --help`, src/cli/train_flags.cpp: a field is the flag of its name,
// '_' written '-'); a program using the library (distsgd/distsgd.hpp) fills it
// itself. summary.json and checkpoints carry it as JSON (to_json), so a run can
// be reproduced. Part of the library's public contract (docs/library.md): one
// struct for both, so the flags and the library cannot drift apart.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace distsgd {

// What a non-finite loss does (--nan-policy): stop the run, or skip (drop that
// update, count it).
enum class NanPolicy { stop, skip };

struct TrainConfig {
  // What is trained, on what.
  std::string algo = "allreduce";
  std::string model = "cnn";
  std::string dataset = "fashion-mnist";
  std::string data_dir;  // empty: the data set's default
  std::string synthetic_shape = "cifar";
  bool augment = true;  // where the data set has augmentation (CIFAR-10)

  // Parameter-server methods (asgd, easgd): the last `servers` ranks serve.
  int servers = 1;
  std::optional<int64_t> max_staleness;  // asgd/easgd: bound on a worker's lead; unset: none
  // asgd: how the server steps on a gradient (methods/asgd_rule.hpp): plain
  // (Downpour) | momentum (--momentum is the effective momentum, asynchrony's
  // included) | staleness (lr / max(1, staleness)) | staleness-momentum (both).
  std::string asgd_rule = "momentum";
  int64_t tau = 1;                       // easgd: steps between elastic exchanges
  double easgd_beta = 0.9;               // easgd: alpha = beta / workers

  // Gossip methods (gossip-pull, gossip-push); tau above sets the steps between rounds.
  std::string topology = "random";  // random | ring | exponential
  int gossip_peers = 1;             // peers per round
  std::string push_mode = "sum";    // gossip-push: sum (push-sum) | average (the seed's variant)
  bool gossip_momentum = false;     // mix momentum buffers too

  // Hybrids. local-sgd (Lin et al. 2020): workers train alone and average
  // their models by all-reduce every local_steps steps; post-local SGD: plain
  // synchronous all-reduce SGD for the first post_local_after epochs.
  // gossip-pga (Chen et al. 2021): a gossip round (gossip_mode; the gossip
  // settings above) every step and an exact all-reduce average every
  // global_every steps.
  int local_steps = 4;
  int64_t post_local_after = 0;
  bool average_momentum = false;  // local-sgd: average the momentum buffers too
  int global_every = 8;
  std::string gossip_mode = "pull";  // gossip-pga: pull | push (--push-mode says which push)

  // Fault injection, to measure what slow or departing nodes do to a method.
  std::string straggler;         // "RANK:FACTOR": that rank computes FACTOR times slower
  std::string straggler_random;  // "P:MS": each rank's step is delayed MS ms with probability P
  std::string leave_early;  // "RANK:STEPS": that worker stops after STEPS steps (async methods)
  std::string inject_nan;   // "RANK:STEP": that rank's loss becomes NaN at that step (0-based)
  // asgd/easgd under `mpirun --enable-recovery`: a worker silent past the
  // deadline is dropped and the others finish without it.
  bool survive_worker_loss = false;

  // Optimisation. batch_size is per worker.
  int64_t epochs = 2;
  int64_t batch_size = 64;
  double lr = 0.05;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 0.0;
  std::string lr_schedule = "step";  // step | cosine
  std::vector<int64_t> lr_decay_epochs;
  double lr_decay = 0.1;
  double warmup_epochs = 0.0;
  std::string lr_scaling = "none";   // none | linear (lr times the number of workers)
  std::optional<int64_t> max_steps;  // stop after this many steps (benchmarks)

  // Evaluation, checkpoints, logs.
  int64_t eval_every = 0;  // steps; 0: at the end of every epoch
  // Small batches score faster on a CPU (cnn: 100 samples a batch took 0.45 of
  // the time of 1000, measured): the activations stay in cache.
  int64_t eval_batch_size = 100;
  // Evaluations during training score a fixed class-balanced subset of this
  // many test samples (data::balanced_subset); the final one the whole set.
  // 0: every evaluation scores the whole set. 1000: asynchronous methods
  // evaluate on worker 0 alone, which at 2000 spent 43% of the demo's asgd run
  // evaluating (a standard error of about 1% of accuracy at 1000).
  int64_t eval_samples = 1000;
  // Evaluations spread evenly over the run, when --eval-every is 0 (compare
  // sets it, so a short run still draws a curve); 0: at the end of every epoch.
  int64_t evaluations = 0;
  std::optional<double> target_accuracy;
  int64_t checkpoint_every = 1;  // epochs; 0: never
  std::string log_dir = "runs/latest";
  std::string resume;
  std::optional<int64_t> stop_after_epoch;  // end this run early, as if preempted
  bool quiet = false;

  // Execution.
  uint64_t seed = 1;
  int threads = 1;
  std::string device = "cpu";
  double timeout_s = 300.0;
  double stall_warn_s = 60.0;       // warn about a wait this long (and repeat); 0: never
  std::string nan_policy = "stop";  // a NaN/inf loss: stop | skip (drop that update, count it)
  double bucket_mb = 25.0;
  std::string timeline;  // --timeline FILE: a Chrome trace of every rank; empty: none

  // --dataset image-folder (docs/data.md): samples are 3 x image_size^2;
  // loader_threads decode and augment a batch, and prefetch the next ones
  // (0: on the training thread); a file that cannot be decoded stops the run
  // (error) or is replaced by the next good one and counted (skip).
  int64_t image_size = 224;
  int loader_threads = 2;
  std::string bad_images = "error";

  // A state dict (torch.save(model.state_dict(), FILE)) to start from instead
  // of random weights (models/named_state.hpp); not with --resume.
  std::string init_from;

  // --straggler and --leave-early parsed (validate() has checked the format).
  struct RankValue {
    int rank = 0;
    double value = 0.0;
  };
  std::optional<RankValue> straggler_spec() const;
  std::optional<RankValue> leave_early_spec() const;
  std::optional<RankValue> inject_nan_spec() const;
  struct RandomDelay {
    double probability = 0.0;
    double ms = 0.0;
  };
  std::optional<RandomDelay> straggler_random_spec() const;
  // The steps between evaluations during training, for a run of `run_steps`
  // steps per worker (the same on every worker): --eval-every, else a
  // --evaluations-th of the run; 0: at the end of every epoch.
  int64_t eval_interval(int64_t run_steps) const;
  // --nan-policy parsed; ConfigError for another name (validate() checks it so).
  NanPolicy nan_policy_kind() const;

  nlohmann::json to_json() const;
  static TrainConfig from_json(const nlohmann::json& json);
  // Checks what can be checked without knowing the ranks; throws ConfigError.
  void validate() const;
};

}  // namespace distsgd
