#include "train/run_summary.hpp"

#include <algorithm>

#include "methods/update_math.hpp"

namespace distsgd {
namespace {

// The largest max-abs difference between any worker's `values` and worker 0's.
double max_divergence(comm::Communicator& workers, std::span<const float> values,
                      const std::string& what) {
  std::vector<float> reference(values.begin(), values.end());
  workers.broadcast(reference.data(), reference.size() * sizeof(float), 0, "worker 0's " + what);
  double divergence = math::max_abs_difference(values, reference);
  workers.allreduce(&divergence, 1, comm::DType::f64, comm::ReduceOp::max, what + " divergence");
  return divergence;
}

// Per worker: steps taken, median step time, injected delay and skipped
// updates, to see stragglers and early leavers.
struct PerWorker {
  std::vector<int64_t> steps, skipped;
  std::vector<double> medians, injected;
};

PerWorker gather_per_worker(comm::Communicator& workers, const RunFigures& figures,
                            double median) {
  std::vector<double> own = {static_cast<double>(figures.position.step), median,
                             figures.injected_s,
                             static_cast<double>(figures.position.skipped_steps)},
                      all(4 * workers.size());
  workers.allgather(own.data(), all.data(), own.size() * sizeof(double), "per-worker figures");
  PerWorker per;
  for (int w = 0; w < workers.size(); ++w) {
    per.steps.push_back(static_cast<int64_t>(all[4 * w]));
    per.medians.push_back(all[4 * w + 1]);
    per.injected.push_back(all[4 * w + 2]);
    per.skipped.push_back(static_cast<int64_t>(all[4 * w + 3]));
  }
  return per;
}

}  // namespace

nlohmann::json make_summary(const TrainConfig& config, const RunFigures& figures,
                            ReplicaView replica, comm::Communicator& world,
                            comm::Communicator& workers,
                            const std::function<nlohmann::json()>& method_summary) {
  const auto& position = figures.position;
  // samples_per_s sums each worker's own rate (its samples over its own training
  // time): with synchronous steps it is the job's rate; with asynchronous ones a
  // straggler lowers it by its own share only.
  const double samples = static_cast<double>(position.samples);
  double totals[4] = {samples, static_cast<double>(position.step),
                      figures.active_train_s > 0 ? samples / figures.active_train_s : 0.0,
                      static_cast<double>(figures.bad_images_skipped)};
  world.allreduce(totals, 4, comm::DType::f64, comm::ReduceOp::sum, "sample counts");
  if (figures.role == Role::server) return {{"method", method_summary()}};

  const double divergence = max_divergence(workers, replica.params, "parameters");
  const double buffer_divergence = max_divergence(workers, replica.buffers, "buffers");
  std::vector<double> sorted = figures.step_times_s;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.empty() ? 0.0 : sorted[sorted.size() / 2];
  const auto per = gather_per_worker(workers, figures, median);
  const double train_s = position.train_time_s;
  const auto recorded = to_json(position);  // the times to target, null when not reached
  nlohmann::json summary = {
      {"algo", config.algo},
      {"model", config.model},
      {"dataset", config.dataset},
      {"nodes", world.size()},
      {"workers", workers.size()},
      {"servers", world.size() - workers.size()},
      {"epochs", static_cast<double>(position.step) / static_cast<double>(figures.steps_per_epoch)},
      {"steps", position.step},
      {"worker_steps", per.steps},
      {"wall_time_s", figures.wall_s},
      {"train_time_s", train_s},
      {"eval_time_s", position.eval_time_s},
      {"checkpoint_time_s", figures.checkpoint_s},
      {"samples_per_s", totals[2]},
      {"job_samples_per_s", totals[0] / std::max(train_s, 1e-9)},
      {"step_time_median_s", median},
      {"worker_step_time_median_s", per.medians},
      {"final_test_accuracy", figures.final_eval->accuracy},
      {"final_test_loss", figures.final_eval->loss},
      {"final_local_test_accuracy",
       figures.local_eval ? nlohmann::json(figures.local_eval->accuracy) : nullptr},
      {"best_test_accuracy", position.best_test_accuracy},
      {"time_to_target_s", recorded.at("time_to_target_s")},
      {"epochs_to_target", recorded.at("epochs_to_target")},
      {"target_accuracy",
       config.target_accuracy ? nlohmann::json(*config.target_accuracy) : nullptr},
      {"max_param_divergence", divergence},
      {"max_buffer_divergence", buffer_divergence},
      {"staleness_mean", nullptr},
      {"staleness_max", nullptr},
      {"server_updates_per_s", nullptr},
      {"consensus_distance", nullptr},
      {"checkpoints", figures.checkpoints},
      {"skipped_steps", per.skipped},  // per worker: updates dropped by --nan-policy skip
      {"nan_policy", config.nan_policy},
      {"straggler", config.straggler.empty() && config.straggler_random.empty()
                        ? nlohmann::json(nullptr)
                        : nlohmann::json{{"spec", config.straggler},
                                         {"random", config.straggler_random},
                                         {"injected_s_per_worker", per.injected}}},
      {"lost_ranks", figures.lost_ranks},
      {"leave_early",
       config.leave_early.empty() ? nlohmann::json(nullptr) : nlohmann::json(config.leave_early)},
      {"parameters", figures.parameters},
      {"bad_images_skipped", static_cast<int64_t>(totals[3])},
      {"config", config.to_json()},
      {"versions", figures.versions}};
  const auto method = method_summary();
  // The figures every method comparison reads sit at the top level too.
  for (const char* key :
       {"staleness_mean", "staleness_max", "server_updates_per_s", "consensus_distance"}) {
    if (method.contains(key)) summary[key] = method.at(key);
  }
  summary["method"] = method;
  return summary;
}

}  // namespace distsgd
