// Parameter-server contention, measured: server updates per second and worker
// samples per second of ASGD and EASGD for several worker and server counts.
// Each configuration is a real `mpirun distsgd train` job; the figures are
// medians over --repeat runs, read from each job's summary.json.
//
//   bench_ps_throughput [--workers 1,2,4,8] [--servers 1,2] [--algos asgd,easgd]
//                       [--steps 40] [--repeat 3] [--model cnn]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <vector>

#include "bench_runs.hpp"

using distsgd::bench::median;

int main(int argc, char** argv) {
  CLI::App app("Parameter-server throughput for 1..N workers and 1..S servers");
  std::vector<int> workers = {1, 2, 4, 8}, servers = {1, 2};
  std::vector<std::string> algos = {"asgd", "easgd"};
  int steps = 40, repeat = 3;
  std::string model = "cnn";
  app.add_option("--workers", workers, "Worker counts")->delimiter(',');
  app.add_option("--servers", servers, "Server counts")->delimiter(',');
  app.add_option("--algos", algos, "Methods")->delimiter(',');
  app.add_option("--steps", steps, "Steps per worker per run");
  app.add_option("--repeat", repeat, "Runs per configuration (the median is reported)");
  app.add_option("--model", model, "Network");
  CLI11_PARSE(app, argc, argv);

  try {
    fmt::print(
        "# {} steps per worker, {} model, Fashion-MNIST, batch 64 per worker, lr 0.01, momentum "
        "0.5 "
        "(small enough for 8 stale workers); medians of {} runs\n",
        steps, model, repeat);
    fmt::print("{:<6} {:>7} {:>7} {:>18} {:>16} {:>14} {:>15}\n", "algo", "servers", "workers",
               "updates/s/server", "samples/s (all)", "vs 1 worker", "staleness mean");
    for (const auto& algo : algos) {
      for (int s : servers) {
        double one_worker_rate = 0.0;
        for (int w : workers) {
          std::vector<double> updates, samples, staleness;
          for (int r = 0; r < repeat; ++r) {
            const auto summary = distsgd::bench::run_summary(
                w + s,
                fmt::format("train --algo {} --servers {} --model {} --epochs 1 --max-steps {} "
                            "--lr 0.01 --momentum 0.5 --eval-samples 100 --checkpoint-every 0",
                            algo, s, model, steps));
            updates.push_back(summary.at("server_updates_per_s").get<double>());
            samples.push_back(summary.at("samples_per_s").get<double>());
            staleness.push_back(summary.at("staleness_mean").get<double>());
          }
          const double rate = median(samples);
          if (w == workers.front()) one_worker_rate = rate;
          fmt::print("{:<6} {:>7} {:>7} {:>18.1f} {:>16.0f} {:>14.2f} {:>15.2f}\n", algo, s, w,
                     median(updates), rate, rate / std::max(one_worker_rate, 1e-9),
                     median(staleness));
          std::fflush(stdout);
        }
      }
    }
  } catch (const std::exception& error) {
    fmt::print(stderr, "{}\n", error.what());
    return 1;
  }
  return 0;
}
