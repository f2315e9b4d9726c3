// distsgd: distributed SGD over MPI. `distsgd train ...` under mpirun trains;
// `distsgd compare ...` runs the comparison of methods (it starts mpirun
// itself), `distsgd report DIR` redraws one; `distsgd info` says what it runs on;
// `distsgd calibrate` (under mpirun) measures the network for the simulator.
#include <fmt/format.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "cli/calibrate.hpp"
#include "cli/compare_run.hpp"
#include "cli/export.hpp"
#include "cli/info.hpp"
#include "cli/simulate_flags.hpp"
#include "cli/train_flags.hpp"
#include "comm/communicator.hpp"
#include "comm/mpi_launcher.hpp"
#include "core/errors.hpp"
#include "core/stop_signal.hpp"
#include "train/checkpoint.hpp"
#include "train/simulated_training.hpp"
#include "train/trainer.hpp"

namespace {

// This process's rank as the launcher tells it, known before MPI starts: lets
// flag errors be printed once rather than once per rank.
int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"})
    if (const char* value = std::getenv(name)) return std::atoi(value);
  return 0;
}

void print_error(int rank, int world, const std::string& message) {
  if (world > 1)
    fmt::print(stderr, "distsgd: error on rank {}: {}\n", rank, message);
  else
    fmt::print(stderr, "distsgd: error: {}\n", message);
  std::fflush(stderr);
}

// --resume auto (a job that a scheduler requeues after preemption): the newest
// good checkpoint in --log-dir, or a fresh start when there is none. Every rank
// decides alone from the same (shared) directory, before any rank writes to it.
void resolve_auto_resume(distsgd::TrainConfig& config, int rank) {
  const auto newest = distsgd::newest_good_checkpoint_in(config.log_dir);
  config.resume = newest.value_or("");
  if (rank != 0) return;
  if (newest)
    fmt::print(stderr, "distsgd: --resume auto: resuming from {}\n", *newest);
  else
    fmt::print(stderr, "distsgd: --resume auto: no checkpoint in {}, starting afresh\n",
               config.log_dir);
}

int run_train(distsgd::TrainConfig config, int* argc, char*** argv) {
  distsgd::comm::Environment environment(argc, argv);
  auto world = environment.world();
  distsgd::install_stop_handlers(world.rank());
  try {
    if (config.survive_worker_loss) distsgd::comm::require_survivable_launcher();
    if (config.resume == "auto") resolve_auto_resume(config, world.rank());
    torch::set_num_threads(config.threads);
    const auto result = distsgd::train(config, world);
    // Stopped by SIGTERM/SIGINT: a clean end, with the conventional status of
    // a process ended by that signal (128 + its number), so a scheduler knows
    // the run is not complete.
    // (Decided from the summary: a signal to any one worker may have stopped the run.)
    int signal = distsgd::stop_signal();
    if (const auto& by = result.summary.value("stopped_by_signal", nlohmann::json());
        by.is_string())
      signal = by == "SIGINT" ? SIGINT : SIGTERM;
    if (signal != 0) {
      if (world.rank() == 0) {
        const auto& s = result.summary;
        if (s.contains("checkpoint"))
          fmt::print(stderr,
                     "distsgd: stopped by {} after step {}; checkpoint {} (continue with "
                     "--resume {})\n",
                     distsgd::signal_name(signal), s.at("step").get<int64_t>(),
                     s.at("checkpoint").get<std::string>(), s.at("checkpoint").get<std::string>());
        else
          fmt::print(stderr,
                     "distsgd: stopped by {}: workers left training early and finished the run "
                     "(no checkpoint: --algo {} takes none with {}); results in "
                     "{}/summary.json\n",
                     distsgd::signal_name(signal), config.algo,
                     config.leave_early.empty() ? "--survive-worker-loss" : "--leave-early",
                     config.log_dir);
      }
      return 128 + signal;
    }
    if (world.rank() == 0) {
      const auto& s = result.summary;
      if (s.contains("lost_ranks") && !s.at("lost_ranks").empty())
        fmt::print(stderr, "distsgd: finished without lost rank(s) {} (--survive-worker-loss)\n",
                   s.at("lost_ranks").dump());
      const int servers = s.at("servers").get<int>();
      fmt::print(
          "distsgd: {} on {} rank(s){}: test accuracy {:.4f} after {:.3g} epoch(s), {:.1f} s "
          "training, "
          "{:.0f} samples/s. Results: {}/summary.json\n",
          config.algo, world.size(),
          servers > 0 ? fmt::format(" ({} workers, {} servers)", world.size() - servers, servers)
                      : "",
          s.at("final_test_accuracy").get<double>(), s.at("epochs").get<double>(),
          s.at("train_time_s").get<double>(), s.at("samples_per_s").get<double>(), config.log_dir);
    }
    if (!result.lost_ranks.empty()) distsgd::comm::Environment::exit_without_finalize(0);
    return 0;
  } catch (const std::exception& error) {
    const int code = dynamic_cast<const distsgd::Error*>(&error)
                         ? static_cast<const distsgd::Error&>(error).exit_code()
                         : 1;
    if (world.size() == 1) {
      print_error(0, 1, error.what());
      return code;
    }
    // Peers may be blocked waiting for this rank: end the whole job. When every
    // rank hits the same error (a bad file), rank 0's abort usually ends the
    // others before they print the same line again.
    if (world.rank() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    print_error(world.rank(), world.size(), error.what());
    distsgd::comm::Environment::abort(code);
  }
}

// A command of one process (no MPI job to end): an error is printed once and
// becomes its exit status.
template <typename Command>
int reporting_errors(Command command) {
  try {
    return command();
  } catch (const distsgd::Error& error) {
    print_error(0, 1, error.what());
    return error.exit_code();
  } catch (const std::exception& error) {
    print_error(0, 1, error.what());
    return 1;
  }
}

int run_simulate(const distsgd::TrainConfig& config, const distsgd::SimulateOptions& options) {
  return reporting_errors([&] {
    config.validate();
    const auto s = distsgd::run_simulation(config, options);
    const auto accuracy = s.at("final_test_accuracy");
    fmt::print(
        "distsgd: simulated {} on {} node(s) ({} network): {}{:.1f} virtual s training, {:.0f} "
        "samples/s; the simulator took {:.1f} s for {} events. Results: {}/summary.json\n",
        config.algo, options.nodes, s.at("network").at("name").get<std::string>(),
        accuracy.is_null() ? std::string()
                           : fmt::format("test accuracy {:.4f} after {:.3g} epoch(s), ",
                                         accuracy.get<double>(), s.at("epochs").get<double>()),
        s.at("train_time_s").get<double>(), s.at("samples_per_s").get<double>(),
        s.at("simulator").at("wall_s").get<double>(), s.at("simulator").at("events").get<int64_t>(),
        config.log_dir);
    return 0;
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "distsgd: distributed SGD over MPI: synchronous all-reduce, asynchronous parameter servers\n"
      "(ASGD, EASGD) and gossip (pull, push-sum), on one engine.\n"
      "Train under mpirun, e.g.  mpirun -np 4 distsgd train --algo gossip-push --model cnn\n"
      "Compare the methods:      distsgd compare --nodes 1,2,4 --epochs 2 --out runs/cmp"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] { return distsgd::cli::version_text(); },
                       "Print distsgd's version, its MPI and LibTorch, and exit");
  distsgd::TrainConfig config;
  auto* train = app.add_subcommand("train", "Train a model with the chosen method on every rank");
  distsgd::cli::add_train_flags(*train, config);
  distsgd::TrainConfig sim_config;
  distsgd::SimulateOptions sim_options;
  auto* simulate = app.add_subcommand(
      "simulate",
      "Run a method on a virtual cluster of --nodes nodes in this process (real model and data, "
      "virtual time and network); every train flag applies");
  distsgd::cli::add_train_flags(*simulate, sim_config);
  distsgd::cli::add_simulate_flags(*simulate, sim_options);
  auto* info = app.add_subcommand(
      "info", "The MPI (flavour, version, launcher), LibTorch, CUDA, threads and BLAS of this build");
  bool launcher_only = false;
  info->add_flag("--launcher", launcher_only,
                 "Print only the command that starts ranks of this build on this host (its MPI's "
                 "launcher and flags; the one distsgd compare uses), ready for -np N");

  distsgd::cli::CompareOptions compare_options;
  auto* compare =
      app.add_subcommand("compare",
                         "Run every method at every node count (mpirun jobs of distsgd train), "
                         "then write results.csv, "
                         "figures and report.md. Any other flag is passed to every train run.");
  compare->add_option("--nodes", compare_options.nodes, "Rank counts, e.g. 1,2,4,8")
      ->delimiter(',')
      ->capture_default_str();
  compare
      ->add_option("--algos", compare_options.algos,
                   "Methods, e.g. allreduce,asgd,easgd,gossip-pull,gossip-push,local-sgd,gossip-pga")
      ->delimiter(',')
      ->capture_default_str();
  compare->add_option("--repeat", compare_options.repeat, "Runs of each configuration")
      ->capture_default_str();
  compare->add_option("--out", compare_options.out, "Directory of the results")
      ->capture_default_str();
  compare->add_option(
      "--straggler", compare_options.straggler,
      "RANK:FACTOR: also run every configuration with this rank FACTOR times slower");
  compare->add_option("--mpirun", compare_options.mpirun,
                      "Launcher command instead of the default for this host, e.g. \"mpirun -x "
                      "OPENBLAS_NUM_THREADS "
                      "--map-by ppr:1:node\"");
  compare->add_option("--hostfile", compare_options.hostfile, "Passed to mpirun");
  compare->add_option(
      "--method-flags", compare_options.method_flags,
      "METHOD=FLAGS: extra train flags for one method, e.g. 'asgd=--momentum 0.5 --lr 0.15' "
      "(repeatable)");
  compare->add_flag("--simulate", compare_options.simulate,
                    "Run each configuration in the cluster simulator (distsgd simulate) instead "
                    "of mpirun: node counts beyond this machine");
  compare->add_option("--sim-flags", compare_options.sim_flags,
                      "Flags for every simulated run, e.g. \"--network 10gbe --timing-only "
                      "--compute-ms 30\"");
  compare->allow_extras();
  std::string report_dir;
  auto* report =
      app.add_subcommand("report", "Redraw results.csv, figures and report.md of a comparison");
  report->add_option("dir", report_dir, "The --out directory of a distsgd compare")->required();
  distsgd::cli::CalibrateOptions calibrate_options;
  auto* calibrate = distsgd::cli::add_calibrate_command(app, calibrate_options);
  distsgd::cli::ExportOptions export_options;
  auto* export_command = distsgd::cli::add_export_command(app, export_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (launcher_rank() != 0) return error.get_exit_code() == 0 ? 0 : 2;
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  if (info->parsed()) return distsgd::cli::print_info(launcher_only);
  if (export_command->parsed())
    return reporting_errors([&] { return distsgd::cli::run_export(export_options); });
  if (calibrate->parsed()) return distsgd::cli::run_calibrate(calibrate_options, &argc, &argv);
  if (simulate->parsed()) return run_simulate(sim_config, sim_options);
  if (compare->parsed() || report->parsed()) {
    return reporting_errors([&] {
      if (report->parsed()) return distsgd::cli::run_report(report_dir);
      compare_options.train_args = compare->remaining();
      // As typed, with words that hold spaces or quotes put back in quotes.
      for (int i = 0; i < argc; ++i) {
        std::string word = argv[i];
        if (word.find_first_of(" '\"$*?") != std::string::npos) word = "'" + word + "'";
        if (i > 0) compare_options.command_line += ' ';
        compare_options.command_line += word;
      }
      return distsgd::cli::run_compare(compare_options);
    });
  }
  try {
    config.validate();
  } catch (const distsgd::Error& error) {
    if (launcher_rank() == 0) print_error(0, 1, error.what());
    return error.exit_code();
  }
  return run_train(config, &argc, &argv);
}
