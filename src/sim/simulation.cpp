#include "sim/simulation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/errors.hpp"

namespace distsgd::sim {
namespace {

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

double mean(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

}  // namespace

SimOutcome simulate(const SimSettings& settings, GradientSource* source,
                    const std::function<double(int64_t)>& lr,
                    const std::function<void(const nlohmann::json&)>& record) {
  const auto started = std::chrono::steady_clock::now();
  Cluster cluster(settings, source, lr);
  auto method = make_sim_method(cluster);
  const auto& config = settings.config;
  SimOutcome outcome;
  std::optional<double> time_to_target, epochs_to_target;
  double best = 0.0;
  auto evaluate = [&](bool final) {
    if (!cluster.real()) return nlohmann::json();
    auto target = method->evaluation_target();
    const auto figures = cluster.source().evaluate(target.params, target.buffers, final);
    const double epochs = static_cast<double>(cluster.steps()) /
                          static_cast<double>(method->workers() * settings.steps_per_epoch);
    nlohmann::json entry = {{"type", "eval"},
                            {"simulated", true},
                            {"epoch", static_cast<int64_t>(std::ceil(epochs - 1e-9))},
                            {"epochs", epochs},
                            {"virtual_s", cluster.now()},
                            {"train_time_s", cluster.now()},
                            {"epochs_done", epochs},
                            {"test_accuracy", figures.accuracy},
                            {"test_loss", figures.loss},
                            {"train_loss_ema", cluster.loss_ema()},
                            {"final", final}};
    for (const auto& [key, value] : target.figures.items()) entry[key] = value;
    best = std::max(best, figures.accuracy);
    if (config.target_accuracy && !time_to_target && figures.accuracy >= *config.target_accuracy) {
      time_to_target = cluster.now();
      epochs_to_target = epochs;
    }
    outcome.evaluations.push_back(entry);
    if (record) record(entry);
    return entry;
  };
  cluster.on_evaluation = [&] { evaluate(false); };
  method->start();
  const bool stop_at_target = settings.stop_at_target && config.target_accuracy;
  while (!(stop_at_target && time_to_target) && cluster.events().run_next()) {
  }
  const int workers = method->workers();
  double makespan = 0.0;
  const bool stopped = stop_at_target && time_to_target.has_value();
  if (stopped) makespan = cluster.now();
  for (int w = 0; w < workers && !stopped; ++w) {
    const auto& node = cluster.all_times()[static_cast<std::size_t>(w)];
    if (node.finished_s < 0)
      throw RuntimeFailure(fmt::format(
          "the simulation stopped with simulated node {} at step {} of {} (a deadlock of the "
          "method's messages)",
          w, node.steps, settings.total_steps));
    makespan = std::max(makespan, node.finished_s);
  }
  const auto final_eval = stopped ? outcome.evaluations.back() : evaluate(true);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::vector<double> compute, comm, wait, medians;
  for (const auto& node : cluster.all_times()) {
    compute.push_back(node.compute_s);
    comm.push_back(node.comm_s);
    wait.push_back(node.wait_s);
  }
  for (int w = 0; w < workers; ++w) medians.push_back(median(cluster.step_intervals(w)));
  const double samples =
      static_cast<double>(cluster.steps()) * static_cast<double>(config.batch_size);
  auto method_figures = method->summary();
  nlohmann::json summary = {
      {"simulated", true},
      {"timing_only", settings.timing_only},
      {"algo", config.algo},
      {"model", config.model},
      {"dataset", config.dataset},
      {"nodes", settings.nodes},
      {"workers", workers},
      {"servers", settings.nodes - workers},
      {"epochs", static_cast<double>(cluster.steps()) /
                     static_cast<double>(workers * settings.steps_per_epoch)},
      {"steps", cluster.steps() / workers},
      {"stopped_at_target", stopped},
      {"train_time_s", makespan},
      {"samples_per_s", makespan > 0 ? samples / makespan : 0.0},
      {"step_time_median_s", median(medians)},
      {"worker_step_time_median_s", medians},
      {"final_test_accuracy", final_eval.is_null() ? nlohmann::json() : final_eval.at("test_accuracy")},
      {"final_test_loss", final_eval.is_null() ? nlohmann::json() : final_eval.at("test_loss")},
      {"best_test_accuracy", cluster.real() ? nlohmann::json(best) : nlohmann::json()},
      {"target_accuracy", config.target_accuracy ? nlohmann::json(*config.target_accuracy) : nlohmann::json()},
      {"time_to_target_s", time_to_target ? nlohmann::json(*time_to_target) : nlohmann::json()},
      {"epochs_to_target", epochs_to_target ? nlohmann::json(*epochs_to_target) : nlohmann::json()},
      {"parameters", settings.numel},
      {"network", settings.network.to_json()},
      {"allreduce_algorithm", allreduce_algorithm_name(settings.allreduce)},
      {"link_queues", settings.link_queues},
      {"overlap", settings.overlap},
      {"compute",
       {{"step_s", settings.compute.step_s},
        {"jitter_sigma", settings.compute.jitter_sigma},
        {"stragglers", settings.compute.stragglers},
        {"backward_fraction", settings.backward_fraction},
        {"server_update_s_per_float", settings.update_s_per_float}}},
      {"breakdown",
       {{"compute_s", compute},
        {"comm_s", comm},
        {"wait_s", wait},
        {"mean_compute_s", mean(compute)},
        {"mean_comm_s", mean(comm)},
        {"mean_wait_s", mean(wait)}}},
      {"staleness_mean", method_figures.value("staleness_mean", nlohmann::json())},
      {"staleness_max", method_figures.value("staleness_max", nlohmann::json())},
      {"consensus_distance",
       final_eval.is_null() ? nlohmann::json() : final_eval.value("consensus_distance", nlohmann::json())},
      {"simulator",
       {{"wall_s", wall_s},
        {"events", cluster.events().processed()},
        {"s_per_event", cluster.events().processed() > 0
                            ? wall_s / static_cast<double>(cluster.events().processed())
                            : 0.0}}},
      {"method", method_figures},
      {"config", config.to_json()}};
  outcome.summary = std::move(summary);
  return outcome;
}

}  // namespace distsgd::sim
