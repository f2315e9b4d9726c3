#include "cli/calibrate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <vector>

#include "comm/communicator.hpp"
#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "sim/allreduce_prediction.hpp"
#include "sim/calibration_fit.hpp"

namespace distsgd::cli {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr int kPingPongTag = 7;
// Where MPI usually changes protocol (eager, then rendezvous, then pipelined
// rendezvous): one fitted line per side.
const std::vector<double> kBoundaries = {64 * 1024.0, kMiB};

void validate(const CalibrateOptions& options, int ranks) {
  if (ranks < 2)
    throw ConfigError(fmt::format(
        "calibrate measures messages between ranks: run it with at least 2, e.g. mpirun -np 2 "
        "distsgd calibrate --out FILE (this job has {})",
        ranks));
  if (options.out.empty()) throw ConfigError("calibrate needs --out FILE");
  // At least 1 KiB and 2 KiB, the two sizes the smallest range's line needs.
  if (!(options.max_mb * kMiB >= 2048.0) || !(options.max_mb <= 1024.0))
    throw ConfigError(
        fmt::format("--max-mb must be between 2/1024 (2 KiB) and 1024 (got {})", options.max_mb));
  if (options.repeat < 1 || options.repeat > 100000)
    throw ConfigError(
        fmt::format("--repeat must be between 1 and 100000 (got {})", options.repeat));
  if (!(options.timeout_s > 0.0))
    throw ConfigError(fmt::format("--timeout-s must be > 0 (got {})", options.timeout_s));
}

std::vector<double> message_sizes(double max_mb) {
  std::vector<double> sizes;
  for (double bytes = 1024.0; bytes <= max_mb * kMiB; bytes *= 2.0) sizes.push_back(bytes);
  return sizes;
}

// The boundaries of kBoundaries that leave at least two measured sizes on
// each side, so that every range can be fitted (--max-mb 1 measures nothing
// above 1 MiB: the middle range then holds every larger size).
std::vector<double> usable_boundaries(const std::vector<double>& sizes) {
  std::vector<double> kept;
  double low = 0.0;
  for (double boundary : kBoundaries) {
    const auto below = std::count_if(sizes.begin(), sizes.end(),
                                     [&](double s) { return s > low && s <= boundary; });
    const auto above =
        std::count_if(sizes.begin(), sizes.end(), [&](double s) { return s > boundary; });
    if (below >= 2 && above >= 2) {
      kept.push_back(boundary);
      low = boundary;
    }
  }
  return kept;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One-way times between ranks 0 and 1 (on rank 0; empty elsewhere). Every
// rank takes part in the barrier before each size, so that the ranks left
// out wait for one size at most (within the timeout), not the whole series.
std::vector<sim::Measurement> measure_pingpong(comm::Communicator& world,
                                               const std::vector<double>& sizes, int repeat) {
  std::vector<std::byte> buffer(static_cast<std::size_t>(sizes.back()));
  std::vector<sim::Measurement> points;
  for (double size : sizes) {
    const auto bytes = static_cast<std::size_t>(size);
    world.barrier("calibrate: ping-pong of " + sim::bytes_label(size));
    std::vector<double> round_trips;
    // The first round trip is not timed: it sets up the connection and buffers.
    for (int r = 0; r <= repeat; ++r) {
      if (world.rank() == 0) {
        const auto start = Clock::now();
        world.send(buffer.data(), bytes, 1, kPingPongTag);
        world.recv(buffer.data(), bytes, 1, kPingPongTag);
        if (r > 0) round_trips.push_back(seconds_since(start));
      } else if (world.rank() == 1) {
        world.recv(buffer.data(), bytes, 0, kPingPongTag);
        world.send(buffer.data(), bytes, 0, kPingPongTag);
      }
    }
    if (world.rank() == 0) points.push_back({size, median(round_trips) / 2.0});
  }
  return points;
}

// All-reduce times on the first `ranks` ranks (on rank 0; empty elsewhere):
// per repeat the slowest rank's time after a barrier of the group.
sim::AllreduceSeries measure_allreduce(comm::Communicator& world, int ranks,
                                       const std::vector<double>& sizes, int repeat) {
  const bool member = world.rank() < ranks;
  comm::Communicator group = world.split(member ? 0 : 1, world.rank(),
                                         fmt::format("calibrate: the first {} ranks", ranks));
  std::vector<float> values(static_cast<std::size_t>(sizes.back() / sizeof(float)), 0.0f);
  sim::AllreduceSeries series{ranks, {}};
  for (double size : sizes) {
    const std::string what =
        fmt::format("calibrate: all-reduce of {} on {} ranks", sim::bytes_label(size), ranks);
    world.barrier(what);
    if (!member) continue;
    const auto count = static_cast<std::size_t>(size / sizeof(float));
    std::vector<double> times;
    for (int r = 0; r <= repeat; ++r) {
      group.barrier(what);
      const auto start = Clock::now();
      group.allreduce(values.data(), count, comm::DType::f32, comm::ReduceOp::sum, what);
      if (r > 0) times.push_back(seconds_since(start));
    }
    group.allreduce(times.data(), times.size(), comm::DType::f64, comm::ReduceOp::max, what);
    if (world.rank() == 0) series.points.push_back({size, median(times)});
  }
  return series;
}

std::string seconds_label(double seconds) { return fmt::format("{:.3e}", seconds); }

void print_table(const sim::Calibration& calibration, const sim::NetworkProfile& fitted,
                 int repeat) {
  fmt::print("distsgd calibrate: {} ranks, {}; median of {} repeats\n", calibration.ranks,
             calibration.mpi, repeat);
  std::string header = fmt::format("{:>10}  {:>11}  {:>11}", "size", "one-way s", "fitted s");
  for (const auto& series : calibration.allreduce)
    header += fmt::format("  {:>13}", fmt::format("allreduce@{} s", series.ranks));
  fmt::print("{}\n", header);
  for (std::size_t i = 0; i < calibration.pingpong.size(); ++i) {
    const auto& point = calibration.pingpong[i];
    std::string line =
        fmt::format("{:>10}  {:>11}  {:>11}", sim::bytes_label(point.bytes),
                    seconds_label(point.seconds), seconds_label(fitted.message_s(point.bytes)));
    for (const auto& series : calibration.allreduce)
      line += fmt::format("  {:>13}", seconds_label(series.points.at(i).seconds));
    fmt::print("{}\n", line);
  }
  double low = 0.0;
  for (const auto& range : calibration.ranges) {
    const std::string sizes =
        std::isinf(range.max_bytes)
            ? (low == 0.0 ? std::string("all sizes")
                          : fmt::format("over {}", sim::bytes_label(low)))
            : fmt::format("({}, {}]", sim::bytes_label(low), sim::bytes_label(range.max_bytes));
    const double bandwidth = range.cost.bandwidth_Bps;
    fmt::print("fitted {:>22}: latency {:.3g} us, bandwidth {}\n", sizes,
               range.cost.latency_s * 1e6,
               bandwidth > 0 ? fmt::format("{:.3g} GB/s", bandwidth / 1e9) : "unbounded");
    low = range.max_bytes;
  }
}

// Each measured all-reduce next to what the simulator predicts for it from the
// fitted ping-pong lines: how far the model is off before any training runs.
void print_predictions(const std::vector<sim::AllreducePrediction>& predictions) {
  fmt::print("all-reduce measured against the fitted profile's prediction (error: predicted - "
             "measured, in % of measured)\n");
  fmt::print("{:>5}  {:>10}  {:>11}  {:>11}  {:>8}  {:>16}  {:>11}  {:>8}\n", "ranks", "size",
             "measured s", "engine s", "engine %", "best", "best s", "best %");
  for (const auto& p : predictions)
    fmt::print("{:>5}  {:>10}  {:>11}  {:>11}  {:>+8.1f}  {:>16}  {:>11}  {:>+8.1f}\n", p.ranks,
               sim::bytes_label(p.bytes), seconds_label(p.measured_s), seconds_label(p.engine_s),
               sim::error_percent(p.engine_s, p.measured_s),
               sim::allreduce_algorithm_name(p.best), seconds_label(p.best_s),
               sim::error_percent(p.best_s, p.measured_s));
}

void write_calibration(const std::string& out, const nlohmann::json& calibration) {
  const auto parent = std::filesystem::path(out).parent_path();
  std::error_code error;
  if (!parent.empty() && !std::filesystem::create_directories(parent, error) && error)
    throw RuntimeFailure(
        fmt::format("cannot write the calibration file '{}': cannot create '{}' ({})", out,
                    parent.string(), error.message()));
  write_file_atomically(out, calibration.dump(2) + "\n");
}

void calibrate(comm::Communicator& world, const CalibrateOptions& options) {
  const auto sizes = message_sizes(options.max_mb);
  sim::Calibration calibration;
  calibration.ranks = world.size();
  calibration.mpi = comm::Environment::library_version();
  calibration.pingpong = measure_pingpong(world, sizes, options.repeat);
  for (int ranks = 2; ranks <= world.size(); ++ranks)
    calibration.allreduce.push_back(measure_allreduce(world, ranks, sizes, options.repeat));
  if (world.rank() != 0) return;
  calibration.ranges = sim::fit_ranges(calibration.pingpong, usable_boundaries(sizes));
  const sim::NetworkProfile fitted("calibration", calibration.ranges, "measured");
  print_table(calibration, fitted, options.repeat);
  const auto predictions = sim::predict_allreduce(calibration.allreduce, fitted);
  print_predictions(predictions);
  // The predictions go into the file too (a field readers ignore: the format is unchanged).
  auto file = calibration_to_json(calibration);
  sim::add_predictions(file, predictions);
  write_calibration(options.out, file);
  fmt::print("wrote {} ({} ranges)\n", options.out, calibration.ranges.size());
  std::fflush(stdout);
}

}  // namespace

CLI::App* add_calibrate_command(CLI::App& app, CalibrateOptions& options) {
  auto* command = app.add_subcommand(
      "calibrate",
      "Measure this machine's MPI (ping-pong and all-reduce; run under mpirun with >= 2 ranks) "
      "and write the network profile the simulator reads");
  command->add_option("--out", options.out, "The calibration file to write (JSON)")->required();
  command
      ->add_option("--max-mb", options.max_mb, "Largest message, in MiB (sizes double from 1 KiB)")
      ->capture_default_str();
  command->add_option("--repeat", options.repeat, "Timed repeats of each size (the median is kept)")
      ->capture_default_str();
  command
      ->add_option("--timeout-s", options.timeout_s,
                   "Longest wait for any one message or collective")
      ->capture_default_str();
  return command;
}

int run_calibrate(const CalibrateOptions& options, int* argc, char*** argv) {
  comm::Environment environment(argc, argv);
  auto world = environment.world();
  try {
    validate(options, world.size());
  } catch (const ConfigError& error) {
    // Every rank finds the same fault in the same flags: one prints, all leave.
    if (world.rank() == 0) fmt::print(stderr, "distsgd: error: {}\n", error.what());
    return error.exit_code();
  }
  world.set_timeout(std::chrono::duration<double>(options.timeout_s));
  try {
    calibrate(world, options);
    return 0;
  } catch (const std::exception& error) {
    const int code =
        dynamic_cast<const Error*>(&error) ? static_cast<const Error&>(error).exit_code() : 1;
    // Peers may be waiting for this rank: end the whole job, as train does.
    fmt::print(stderr, "distsgd: error on rank {}: {}\n", world.rank(), error.what());
    std::fflush(stderr);
    comm::Environment::abort(code);
  }
}

}  // namespace distsgd::cli
