#pragma once
// `mpirun -np R distsgd calibrate --out FILE`: measures the network this job
// runs on, through comm::Communicator as training uses it, and writes the
// calibration file (format: sim/calibration_fit.hpp) that the simulator takes
// as its network profile (sim::NetworkProfile::parse). Needs R >= 2 ranks.
//
// Measured: a ping-pong between ranks 0 and 1 for sizes 1 KiB, 2 KiB, ...,
// doubling up to --max-mb MiB (the one-way time is half the median round trip
// of --repeat), and the all-reduce (sum of floats) of the same sizes on the
// first n ranks for n = 2..R (the median over --repeat of the slowest rank's
// time). Fitted: latency + bytes / bandwidth over the ping-pong times in the
// size ranges up to 64 KiB, up to 1 MiB and above (a boundary is dropped when
// the sizes above it are fewer than two: small --max-mb). Rank 0 writes the
// file atomically and prints the table; every wait is bounded by --timeout-s.
#include <CLI/CLI.hpp>
#include <string>

namespace distsgd::cli {

struct CalibrateOptions {
  std::string out;
  double max_mb = 64;
  int repeat = 20;
  double timeout_s = 60;
};

// The `calibrate` subcommand of `app`, its flags bound to `options`.
CLI::App* add_calibrate_command(CLI::App& app, CalibrateOptions& options);

// Runs the calibration on every rank of the job (it starts MPI). Returns the
// exit status: 0 done, 2 bad flags or fewer than 2 ranks (printed once), 1 a
// failure while measuring (printed, and the job is ended).
int run_calibrate(const CalibrateOptions& options, int* argc, char*** argv);

}  // namespace distsgd::cli
