// Step-time benchmark, run under `mpirun -np 2`. In one run it measures, for
// the reference cnn (batch 64, 1 thread):
//   bare:  a plain LibTorch loop (rank 0 alone, no distsgd code)
//   1rank: distsgd train on rank 0 alone (a one-rank communicator)
//   2rank: distsgd train with synchronous all-reduce on both ranks
// and prints medians and the ratios 1rank/bare and 2rank/1rank. Then, for
// resnet18 (batch 32), how much of the all-reduce time the backward pass hides.
#include <fmt/format.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>

#include "bare_loop.hpp"
#include "comm/communicator.hpp"
#include "train/trainer.hpp"

namespace {

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

std::vector<double> without_warmup(std::vector<double> times, int warmup) {
  if (static_cast<int>(times.size()) > warmup) times.erase(times.begin(), times.begin() + warmup);
  return times;
}

distsgd::TrainConfig bench_config(const std::string& model, int batch, int steps,
                                  const std::string& dir) {
  distsgd::TrainConfig config;
  config.model = model;
  config.batch_size = batch;
  config.max_steps = steps;
  config.epochs = 1;
  config.quiet = true;
  config.checkpoint_every = 0;
  config.eval_samples = 256;
  config.log_dir = dir;
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"distsgd step-time benchmark (run with mpirun -np 2)"};
  int steps = 300, warmup = 20, resnet_steps = 6;
  double bucket_mb = 5.0;
  std::string dir = "runs/bench";
  app.add_option("--steps", steps, "Timed steps per cnn measurement")->capture_default_str();
  app.add_option("--warmup", warmup, "Untimed steps first")->capture_default_str();
  app.add_option("--resnet-steps", resnet_steps,
                 "Steps of the resnet18 overlap measurement (0: skip)")
      ->capture_default_str();
  app.add_option("--bucket-mb", bucket_mb, "Bucket size of the resnet18 measurement")
      ->capture_default_str();
  app.add_option("--log-dir", dir, "Scratch directory")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  distsgd::comm::Environment environment(&argc, &argv);
  auto world = environment.world();
  if (world.size() != 2) {
    if (world.rank() == 0) fmt::print(stderr, "run with mpirun -np 2\n");
    return 2;
  }
  torch::set_num_threads(1);
  const bool root = world.rank() == 0;
  auto self = world.split(world.rank(), 0, "one-rank communicator");

  // 1. The bare loop and 2. distsgd on one rank, rank 0 alone (rank 1 waits at
  // the barrier). The bare loop runs before and after distsgd, so that a drift
  // of the machine's speed does not favour either.
  double bare_before = 0.0, bare_after = 0.0, one_rank = 0.0;
  if (root) {
    bare_before = median(bench::bare_libtorch_step_times(64, warmup, steps));
    auto result = distsgd::train(bench_config("cnn", 64, warmup + steps, dir + "/one"), self);
    one_rank = median(without_warmup(result.step_times_s, warmup));
    bare_after = median(bench::bare_libtorch_step_times(64, warmup, steps));
  }
  const double bare = 0.5 * (bare_before + bare_after);
  world.barrier("after the one-rank runs");

  // 3. distsgd, synchronous all-reduce on two ranks.
  auto two = distsgd::train(bench_config("cnn", 64, warmup + steps, dir + "/two"), world);
  const double two_ranks = median(without_warmup(two.step_times_s, warmup));

  if (root) {
    fmt::print(
        "cnn (225,034 parameters), batch 64 per rank, 1 thread per rank, median of {} steps:\n",
        steps);
    fmt::print("  bare LibTorch loop        {:8.2f} ms/step (before {:.2f}, after {:.2f})\n",
               bare * 1e3, bare_before * 1e3, bare_after * 1e3);
    fmt::print("  distsgd, 1 rank           {:8.2f} ms/step\n", one_rank * 1e3);
    fmt::print("  distsgd allreduce, 2 ranks{:8.2f} ms/step\n", two_ranks * 1e3);
    fmt::print("  ratio 1-rank / bare       {:8.3f}   (goal <= 1.02)\n", one_rank / bare);
    fmt::print("  ratio 2-rank / 1-rank     {:8.3f}   (goal <= 1.05)\n", two_ranks / one_rank);
  }

  if (resnet_steps > 0) {
    // 4. resnet18: all-reduce time alone, then how much of it backward hides.
    auto config = bench_config("resnet18", 32, resnet_steps + 1, dir + "/resnet18");
    config.dataset = "synthetic";
    config.synthetic_shape = "cifar";
    config.bucket_mb = bucket_mb;
    config.eval_samples = 64;
    auto result = distsgd::train(config, world);
    const int64_t params = result.summary.at("parameters").get<int64_t>();
    std::vector<float> buffer(static_cast<std::size_t>(params), 1.0f);
    std::vector<double> alone;
    for (int i = 0; i < 5; ++i) {
      world.barrier("before a timed all-reduce");
      const auto start = std::chrono::steady_clock::now();
      world.allreduce(buffer.data(), buffer.size(), distsgd::comm::DType::f32,
                      distsgd::comm::ReduceOp::sum, "timed all-reduce");
      alone.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    const auto& method = result.summary.at("method");
    const double steps_done = result.summary.at("steps").get<double>();
    const double exposed = method.at("allreduce_exposed_s").get<double>() / steps_done;
    const double comm_alone = median(alone);
    if (root) {
      fmt::print(
          "resnet18 ({} parameters, {:.1f} MB of gradients), batch 32, 2 ranks, buckets of {} "
          "MB:\n",
          params, params * 4 / 1e6, bucket_mb);
      fmt::print("  step time (median)                {:8.1f} ms\n",
                 result.summary.at("step_time_median_s").get<double>() * 1e3);
      fmt::print("  all-reduce of all gradients alone {:8.1f} ms\n", comm_alone * 1e3);
      fmt::print("  all-reduce wait after backward    {:8.1f} ms per step\n", exposed * 1e3);
      fmt::print("  hidden behind backward            {:8.1f} %\n",
                 100.0 * std::clamp(1.0 - exposed / comm_alone, 0.0, 1.0));
    }
  }
  return 0;
}
