// distsgd::Session and distsgd::train (include/distsgd/distsgd.hpp): MPI for
// the process, then the trainer with the program's model and data, as the CLI
// runs it for `distsgd train` (src/cli/main.cpp, run_train).
#include <torch/torch.h>

#include <atomic>

#include "comm/communicator.hpp"
#include "comm/mpi_launcher.hpp"
#include "core/errors.hpp"
#include "core/stop_signal.hpp"
#include "distsgd/distsgd.hpp"
#include "library/problem_inputs.hpp"
#include "library/summary.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

namespace distsgd {
namespace {

// MPI can be initialised once per process: a second session could not.
std::atomic<bool> session_created{false};

}  // namespace

struct Session::Impl {
  Impl(int* argc, char*** argv) : environment(argc, argv), world(environment.world()) {}
  comm::Environment environment;
  comm::Communicator world;
};

Session::Session(int* argc, char*** argv, bool stop_on_signals) {
  if (comm::Environment::initialized())
    throw ConfigError(
        "MPI is already initialised: create the distsgd::Session first (it initialises MPI "
        "with MPI_THREAD_MULTIPLE), then use MPI");
  if (session_created.exchange(true))
    throw ConfigError(
        "a distsgd::Session was created before in this process, and MPI cannot be initialised "
        "twice: keep one Session for the life of the program");
  impl_ = std::make_unique<Impl>(argc, argv);
  if (stop_on_signals) install_stop_handlers(impl_->world.rank());
}

Session::~Session() = default;

int Session::rank() const { return impl_->world.rank(); }
int Session::size() const { return impl_->world.size(); }

Summary Session::train(const TrainConfig& config, const Problem& problem) {
  TrainConfig run = config;
  run.model = problem.model_name;
  run.dataset = problem.dataset_name;
  run.validate();  // before set_num_threads takes config.threads
  if (run.survive_worker_loss) comm::require_survivable_launcher();
  // --resume auto, as the CLI resolves it: the newest good checkpoint, or afresh.
  if (run.resume == "auto") run.resume = newest_good_checkpoint_in(run.log_dir).value_or("");
  torch::set_num_threads(run.threads);
  const auto inputs = library::inputs_for(problem);
  return library::summary_of(distsgd::train(run, impl_->world, inputs));
}

void Session::abort(int code) { comm::Environment::abort(code); }

Summary train(const TrainConfig& config, const Problem& problem) {
  static Session session(nullptr, nullptr);
  return session.train(config, problem);
}

}  // namespace distsgd
