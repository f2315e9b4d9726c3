// Gossip beside synchronous all-reduce: samples per second and bytes each node
// sends per step, for several node counts. Each configuration is a real
// `mpirun distsgd train` job; medians over --repeat runs.
//
//   bench_gossip_traffic [--nodes 1,2,4,8] [--algos allreduce,gossip-pull,gossip-push]
//                        [--steps 40] [--repeat 3] [--model cnn]
//
// Gossip counts the bytes it hands to MPI (pull requests and answers, pushes).
// All-reduce's traffic is inside MPI; the figure shown for it is what a ring
// all-reduce sends per node, 2 (n - 1) / n times the gradient size.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <vector>

#include "bench_runs.hpp"

using distsgd::bench::median;

int main(int argc, char** argv) {
  CLI::App app("Gossip and all-reduce: throughput and bytes per node per step");
  std::vector<int> nodes = {1, 2, 4, 8};
  std::vector<std::string> algos = {"allreduce", "gossip-pull", "gossip-push"};
  int steps = 40, repeat = 3;
  std::string model = "cnn";
  app.add_option("--nodes", nodes, "Rank counts")->delimiter(',');
  app.add_option("--algos", algos, "Methods")->delimiter(',');
  app.add_option("--steps", steps, "Steps per rank per run");
  app.add_option("--repeat", repeat, "Runs per configuration (the median is reported)");
  app.add_option("--model", model, "Network");
  CLI11_PARSE(app, argc, argv);

  try {
    fmt::print(
        "# {} steps per rank, {} model, Fashion-MNIST, batch 64 per rank, 1 gossip peer per step; "
        "medians of {} runs\n",
        steps, model, repeat);
    fmt::print("{:<12} {:>6} {:>16} {:>16} {:>22} {:>14}\n", "algo", "nodes", "samples/s (all)",
               "vs allreduce", "MB sent/node/step", "consensus");
    std::vector<double> allreduce_rate(nodes.size(), 0.0);
    for (const auto& algo : algos) {
      for (std::size_t k = 0; k < nodes.size(); ++k) {
        const int n = nodes[k];
        if (algo != "allreduce" && n < 2) {
          fmt::print("{:<12} {:>6} {:>16}\n", algo, n, "(needs 2 ranks)");
          continue;
        }
        std::vector<double> samples, megabytes, consensus;
        for (int r = 0; r < repeat; ++r) {
          const auto summary = distsgd::bench::run_summary(
              n,
              fmt::format("train --algo {} --model {} --epochs 1 --max-steps {} --eval-samples 100 "
                          "--checkpoint-every 0",
                          algo, model, steps));
          samples.push_back(summary.at("samples_per_s").get<double>());
          const double gradient_mb = summary.at("parameters").get<double>() * 4 / 1e6;
          megabytes.push_back(algo == "allreduce"
                                  ? 2.0 * (n - 1) / n * gradient_mb
                                  : summary.at("method").at("bytes_sent_per_step").get<double>() /
                                        1e6);
          const auto& distance = summary.at("consensus_distance");
          consensus.push_back(distance.is_null() ? 0.0 : distance.get<double>());
        }
        const double rate = median(samples);
        if (algo == "allreduce") allreduce_rate[k] = rate;
        fmt::print(
            "{:<12} {:>6} {:>16.0f} {:>16} {:>22} {:>14.2e}\n", algo, n, rate,
            allreduce_rate[k] > 0 ? fmt::format("{:.2f}", rate / allreduce_rate[k]) : "-",
            fmt::format("{:.3f}{}", median(megabytes), algo == "allreduce" ? " (ring est.)" : ""),
            median(consensus));
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& error) {
    fmt::print(stderr, "{}\n", error.what());
    return 1;
  }
  return 0;
}
