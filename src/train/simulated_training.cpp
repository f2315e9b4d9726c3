#include "train/simulated_training.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include "comm/in_process.hpp"
#include "core/device_choice.hpp"
#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "data/dataset.hpp"
#include "data/eval_subset.hpp"
#include "metrics/jsonl_writer.hpp"
#include "models/flat_parameters.hpp"
#include "models/model.hpp"
#include "sim/simulation.hpp"
#include "train/data_feed.hpp"
#include "train/evaluation.hpp"
#include "train/gradient_buckets.hpp"
#include "train/lr_schedule.hpp"
#include "train/train_step.hpp"

namespace distsgd {
namespace {

using Clock = std::chrono::steady_clock;

// The real model as the simulator's gradient source: each call loads the
// node's parameters and statistics into the one model, runs the node's
// batch, and copies the gradient and statistics out.
class ModelSource final : public sim::GradientSource {
 public:
  ModelSource(const TrainConfig& config, int workers, data::Datasets& data, models::Model& model,
              FlatParameters& flat)
      : config_(config), workers_(workers), data_(data), model_(model), flat_(flat),
        group_(comm::make_in_process_group(1)),
        eval_subset_(data::evaluation_subset(*data.test, config.eval_samples)) {
    initial_params_.assign(flat.param_span().begin(), flat.param_span().end());
    initial_buffers_.assign(flat.buffer_span().begin(), flat.buffer_span().end());
  }

  int64_t numel() const override { return flat_.numel(); }
  int64_t buffer_numel() const override { return flat_.buffers().numel(); }
  std::vector<float> initial_params() const override { return initial_params_; }
  std::vector<float> initial_buffers() const override { return initial_buffers_; }

  sim::StepFigures gradient(const sim::BatchId& batch, std::span<const float> params,
                            std::span<float> buffers, std::span<float> grad) override {
    load(params, buffers);
    const auto& order = permutation(batch.epoch);
    const int64_t per = data_.train->size() / workers_;
    const std::span<const int64_t> indices(
        order.data() + batch.worker * per + batch.step_in_epoch * config_.batch_size,
        static_cast<std::size_t>(config_.batch_size));
    auto sample = data_.train->batch(
        indices, config_.augment ? std::optional(augment_seed(config_.seed, batch.worker, batch.step))
                                 : std::nullopt);
    flat_.zero_grads();
    auto logits = model_.forward(sample.inputs);
    auto loss = torch::nn::functional::cross_entropy(logits, sample.targets);
    loss.backward();
    const auto g = flat_.grad_span();
    std::copy(g.begin(), g.end(), grad.begin());
    const auto b = flat_.buffer_span();
    std::copy(b.begin(), b.end(), buffers.begin());
    return {loss.item<double>(),
            logits.argmax(1).eq(sample.targets).to(torch::kFloat64).mean().item<double>()};
  }

  sim::EvalFigures evaluate(std::span<const float> params, std::span<const float> buffers,
                            bool whole_set) override {
    std::vector<float> copy(buffers.begin(), buffers.end());
    load(params, copy);
    const auto result =
        distsgd::evaluate(model_, *data_.test, group_.front(), config_.eval_batch_size, torch::kCPU,
                          whole_set ? std::span<const int64_t>{} : eval_subset_);
    return {result.loss, result.accuracy};
  }

 private:
  void load(std::span<const float> params, std::span<const float> buffers) {
    std::copy(params.begin(), params.end(), flat_.param_span().begin());
    std::copy(buffers.begin(), buffers.end(), flat_.buffer_span().begin());
  }
  // The epoch's permutation of the whole set (data::shard_for_epoch's), kept
  // for the epochs in use: worker w's shard is its w-th slice.
  const std::vector<int64_t>& permutation(int64_t epoch) {
    auto found = orders_.find(epoch);
    if (found != orders_.end()) return found->second;
    if (orders_.size() > 4) orders_.erase(orders_.begin());
    return orders_[epoch] = data::shard_for_epoch(data_.train->size(), 0, 1, config_.seed, epoch);
  }

  const TrainConfig& config_;
  int workers_;
  data::Datasets& data_;
  models::Model& model_;
  FlatParameters& flat_;
  std::vector<comm::Communicator> group_;
  std::vector<float> initial_params_, initial_buffers_;
  std::map<int64_t, std::vector<int64_t>> orders_;
  std::vector<int64_t> eval_subset_;  // --eval-samples; empty: the whole test set
};

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Seconds of one training step (forward, backward, SGD step) at `batch`.
double measure_step_s(models::Model& model, FlatParameters& flat, const data::Dataset& train,
                      int64_t batch, const TrainConfig& config) {
  std::vector<int64_t> indices(static_cast<std::size_t>(batch));
  for (int64_t i = 0; i < batch; ++i) indices[static_cast<std::size_t>(i)] = i % train.size();
  const auto saved = flat.params().clone();
  const auto saved_buffers = flat.buffers().clone();
  math::MomentumState momentum;
  const math::SgdHyper hyper{config.momentum, config.weight_decay, config.nesterov};
  // Two untimed steps (allocations, caches), then the median of ten.
  std::vector<double> times;
  for (int rep = 0; rep < 12; ++rep) {
    const auto start = Clock::now();
    auto sample = train.batch(indices);
    flat.zero_grads();
    auto loss = torch::nn::functional::cross_entropy(model.forward(sample.inputs), sample.targets);
    loss.backward();
    math::sgd_step(flat.param_span(), flat.grad_span(), momentum, hyper, config.lr);
    if (rep >= 2) times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  flat.params().copy_(saved);
  flat.buffers().copy_(saved_buffers);
  return median_of(times);
}

// Seconds per float of a server's SGD step with momentum, on a vector far
// larger than the caches (a model's shard is).
double measure_update_s_per_float(const TrainConfig& config) {
  const std::size_t n = 1 << 24;
  std::vector<float> x(n, 1.0f), g(n, 0.001f);
  math::MomentumState momentum;
  const math::SgdHyper hyper{config.momentum, config.weight_decay, config.nesterov};
  std::vector<double> times;
  for (int rep = 0; rep < 5; ++rep) {
    const auto start = Clock::now();
    math::sgd_step(x, g, momentum, hyper, 0.01);
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return median_of(times) / static_cast<double>(n);
}

}  // namespace

nlohmann::json run_simulation(const TrainConfig& config, const SimulateOptions& options) {
  if (options.nodes < 1) throw ConfigError(fmt::format("--nodes {}: at least 1", options.nodes));
  if (options.compute_ms && *options.compute_ms <= 0)
    throw ConfigError(fmt::format("--compute-ms {}: must be positive", *options.compute_ms));
  if (options.compute_jitter < 0)
    throw ConfigError(fmt::format("--compute-jitter {}: must be >= 0", options.compute_jitter));
  if (options.host_cores && *options.host_cores < 1)
    throw ConfigError(fmt::format("--host-cores {}: at least 1", *options.host_cores));
  // Train flags of things the simulator does not model: refused, not ignored.
  for (const auto& [set, flag] : std::vector<std::pair<bool, const char*>>{
           {!config.leave_early.empty(), "--leave-early"},
           {!config.inject_nan.empty(), "--inject-nan"},
           {!config.resume.empty(), "--resume"},
           {!config.init_from.empty(), "--init-from"},
           {config.stop_after_epoch.has_value(), "--stop-after-epoch"},
           {config.survive_worker_loss, "--survive-worker-loss"},
           {config.nan_policy != "stop", "--nan-policy skip"},
           {parse_device(config.device).kind == DeviceRequest::Kind::cuda, "--device cuda"}})
    if (set)
      throw ConfigError(fmt::format("{}: not modelled by the simulator (docs/simulator.md)", flag));
  sim::SimSettings settings;
  settings.config = config;
  settings.nodes = options.nodes;
  settings.network = sim::NetworkProfile::parse(options.network);
  settings.allreduce = sim::parse_allreduce_algorithm(options.allreduce);
  settings.link_queues = options.link_queues;
  settings.overlap = options.overlap;
  settings.timing_only = options.timing_only;
  settings.stop_at_target = options.stop_at_target;
  if (options.stop_at_target && !config.target_accuracy)
    throw ConfigError("--stop-at-target needs --target-accuracy");
  settings.compute.jitter_sigma = options.compute_jitter;
  settings.compute.stragglers = options.stragglers;
  const int workers = sim::workers_of(config, options.nodes);

  torch::set_num_threads(config.threads);
  auto data = data::load_datasets(data_options(config));
  torch::manual_seed(config.seed);
  auto model = models::make_model(config.model, data.train->shape(), data.train->num_classes());
  FlatParameters flat(*model);
  settings.numel = flat.numel();
  settings.buffer_numel = flat.buffers().numel();
  std::vector<int64_t> numels;
  for (const auto& slot : flat.slots()) numels.push_back(slot.numel);
  for (const auto& bucket : assign_buckets(
           numels, std::max<int64_t>(1, static_cast<int64_t>(config.bucket_mb * 1024 * 1024))))
    settings.bucket_numels.push_back(bucket.numel);

  const int64_t shard = data.train->size() / workers;
  settings.steps_per_epoch = shard / config.batch_size;
  if (settings.steps_per_epoch < 1)
    throw ConfigError(fmt::format(
        "--batch-size {} is larger than a worker's shard ({} samples of {} over {} workers)",
        config.batch_size, shard, data.train->size(), workers));
  settings.total_steps = settings.steps_per_epoch * config.epochs;
  if (config.max_steps) settings.total_steps = std::min(settings.total_steps, *config.max_steps);
  settings.config.eval_every = config.eval_interval(settings.total_steps);

  nlohmann::json fit;
  if (options.compute_ms) {
    settings.compute.step_s = *options.compute_ms / 1000.0;
    fit = {{"source", "--compute-ms"}};
  } else {
    // A linear fit in the batch size from two measured batches.
    const int64_t small = std::max<int64_t>(1, config.batch_size / 2);
    const double t_small = measure_step_s(*model, flat, *data.train, small, config);
    const double t_full = measure_step_s(*model, flat, *data.train, config.batch_size, config);
    const double slope =
        small == config.batch_size ? 0.0 : (t_full - t_small) / static_cast<double>(config.batch_size - small);
    const double intercept = t_full - slope * static_cast<double>(config.batch_size);
    settings.compute.step_s = intercept + slope * static_cast<double>(config.batch_size);
    fit = {{"source", "measured"}, {"intercept_s", intercept}, {"s_per_sample", slope},
           {"measured", {{std::to_string(small), t_small}, {std::to_string(config.batch_size), t_full}}}};
  }
  if (options.host_cores)
    settings.compute.step_s *= std::max(1.0, static_cast<double>(workers) / *options.host_cores);
  if (options.server_update_ns && *options.server_update_ns < 0)
    throw ConfigError(fmt::format("--server-update-ns {}: must be >= 0", *options.server_update_ns));
  settings.update_s_per_float = options.server_update_ns ? *options.server_update_ns * 1e-9
                                                         : measure_update_s_per_float(config);

  std::error_code error;
  std::filesystem::create_directories(config.log_dir, error);
  if (!std::filesystem::is_directory(config.log_dir))
    throw ConfigError("--log-dir " + config.log_dir + " cannot be created: " + error.message());
  metrics::JsonlWriter metrics(config.log_dir + "/metrics.sim.jsonl");
  ModelSource source(config, workers, data, *model, flat);
  LrSchedule schedule(config, workers, settings.steps_per_epoch);
  auto outcome = sim::simulate(
      settings, options.timing_only ? nullptr : &source,
      [&schedule](int64_t step) { return schedule.at(step); },
      [&metrics, &config](const nlohmann::json& record) {
        metrics.write(record);
        if (!config.quiet)
          fmt::print("simulated epoch {} at {:.1f} virtual s: test accuracy {:.4f}\n",
                     record.at("epoch").get<int64_t>(), record.at("virtual_s").get<double>(),
                     record.at("test_accuracy").get<double>());
      });
  metrics.flush();
  auto& summary = outcome.summary;
  summary["compute"]["fit"] = fit;
  if (options.host_cores) summary["compute"]["host_cores"] = *options.host_cores;
  write_file_atomically(config.log_dir + "/summary.json", summary.dump(2) + "\n");
  return summary;
}

}  // namespace distsgd
