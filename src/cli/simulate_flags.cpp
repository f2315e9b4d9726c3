#include "cli/simulate_flags.hpp"

namespace distsgd::cli {

void add_simulate_flags(CLI::App& command, SimulateOptions& options) {
  command.add_option("--nodes", options.nodes,
                     "Virtual ranks, counted as mpirun -np counts them (servers included)")
      ->required();
  command
      .add_option("--network", options.network,
                  "free | 10gbe | 25gbe | 100g-ib | 200g-ib | bw=10Gbit,lat=50us | a file of "
                  "distsgd calibrate")
      ->capture_default_str();
  command.add_option("--allreduce", options.allreduce, "ring | tree | halving-doubling | openmpi (what this engine gets from Open MPI: "
                     "tree below 4 ranks or 64 KiB, ring above)")
      ->capture_default_str();
  command.add_option("--compute-ms", options.compute_ms,
                     "Milliseconds of one step's compute (default: measured here at start)");
  command.add_option("--server-update-ns", options.server_update_ns,
                     "Nanoseconds a server takes per float of an update (default: measured here)");
  command
      .add_option("--compute-jitter", options.compute_jitter,
                  "Sigma of a lognormal factor (mean 1) on every step's compute")
      ->capture_default_str();
  command.add_option("--host-cores", options.host_cores,
                     "The nodes share this many cores (to predict an oversubscribed real run)");
  command.add_flag("--timing-only", options.timing_only,
                   "No gradients: times and throughput only, any model at any scale");
  command.add_flag("--stop-at-target", options.stop_at_target,
                   "End the run at the first evaluation that reaches --target-accuracy");
  command.add_flag("!--no-link-queues", options.link_queues,
                   "Messages never wait for a busy link (for the model's ablation)");
  command.add_flag("!--no-overlap", options.overlap,
                   "All-reduce starts after the whole backward pass");
  command.add_flag("!--no-stragglers", options.stragglers,
                   "Ignore --straggler and --straggler-random");
}

}  // namespace distsgd::cli
