#pragma once
// distsgd as a C++ library: train your own torch::nn::Module on your own data
// with any of distsgd's methods, under mpirun, and read the run's summary.
// This header (with train_config.hpp and errors.hpp beside it) is the whole
// contract; docs/library.md explains it with an example, and
// examples/custom_model/ is a complete program built against the installed
// package (find_package(distsgd), target distsgd::distsgd).
//
//   distsgd::Session session(&argc, &argv);            // MPI, once per process
//   distsgd::TrainConfig config;                        // the train flags
//   config.algo = "gossip-push";
//   distsgd::Problem problem;
//   problem.model = [] { return torch::nn::AnyModule(MyNet()); };
//   problem.train = distsgd::samples_of(MyDataset(/*train=*/true));
//   problem.test = distsgd::samples_of(MyDataset(/*train=*/false));
//   const distsgd::Summary summary = session.train(config, problem);
//
// Every rank of the job runs the same program and calls train() with the same
// config and an identical problem (collective). A run behaves as `distsgd train`
// with the same flags: the method, evaluation, checkpoints, metrics files and
// summary.json in config.log_dir are the same; only the model and the data are
// yours.
#include <torch/data/example.h>
#include <torch/nn/modules/container/any.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "distsgd/errors.hpp"
#include "distsgd/train_config.hpp"

namespace distsgd {

// A labelled data set, as get(i) for i in [0, size). Each example's `data` is a
// float32 tensor of one shape [C, H, W] for every sample (of both the training
// and the test set); its `target` an int64 scalar (or one-element tensor) in
// [0, num_classes). get() is called on the thread that called train(), never
// concurrently, for the samples of each batch (a batch stacks them: the model
// gets float32 [B, C, H, W]) and once for every sample when the labels are
// needed (the class count, the class-balanced evaluation subset). It must give
// the same example for the same index every time, and on every rank.
struct Samples {
  int64_t size = 0;
  std::function<torch::data::Example<>(int64_t index)> get;
};

// Samples of a torch::data dataset (anything with get(size_t) returning
// torch::data::Example<> and size() returning an optional size), kept alive by
// the Samples it returns.
template <typename TorchDataset>
Samples samples_of(std::shared_ptr<TorchDataset> dataset) {
  static_assert(std::is_same_v<decltype(dataset->get(std::size_t{0})), torch::data::Example<>>,
                "samples_of: get(i) must return torch::data::Example<> (input, target)");
  const auto size = dataset->size();
  if (!size) throw ConfigError("samples_of: the data set does not know its size()");
  return Samples{static_cast<int64_t>(*size), [dataset](int64_t index) {
                   return dataset->get(static_cast<std::size_t>(index));
                 }};
}
template <typename TorchDataset>
Samples samples_of(TorchDataset dataset) {
  return samples_of(std::make_shared<TorchDataset>(std::move(dataset)));
}

// What is trained: the model and the data, replacing config.model and
// config.dataset (and the data set flags: data_dir, synthetic_shape,
// image_size, loader_threads, bad_images, augment, which are ignored).
struct Problem {
  // Builds the model: a module whose forward(Tensor) takes a float32 [B, C, H, W]
  // batch and returns [B, num_classes] logits (trained with cross-entropy).
  // Called once per rank, after torch::manual_seed(config.seed): a factory
  // that draws its initial weights from torch's generator builds the same
  // model on every rank (the methods start every worker from rank 0's
  // parameters and buffers anyway). Modules that hold buffers (batch norm) are
  // fine; every parameter must be float32 on the CPU.
  std::function<torch::nn::AnyModule()> model;
  Samples train;
  Samples test;
  // The number of classes; 0: one more than the largest label of the training
  // set (which reads every training sample's label once).
  int64_t num_classes = 0;
  // The names summary.json, the metrics files and the checkpoints record for
  // the model and the data set (config.model and config.dataset). --resume
  // checks them: resume a run with the same names (and the same model).
  std::string model_name = "custom";
  std::string dataset_name = "custom";
};

// What a run reports: the figures of summary.json that most programs read,
// and the whole summary as JSON text.
struct Summary {
  // false on a parameter server's rank (asgd, easgd): `json` then holds the
  // method's own figures only ({"method": ...}) and the numbers below are 0.
  // Every worker rank has the full summary (rank 0 writes it to summary.json).
  bool worker = true;
  double final_test_accuracy = 0.0;  // of the final model, on the whole test set
  double final_test_loss = 0.0;
  double best_test_accuracy = 0.0;   // of the evaluations during training
  double epochs = 0.0;               // epochs trained (steps / steps per epoch)
  int64_t steps = 0;                 // steps of worker 0 (each worker's own count: in json)
  double train_time_s = 0.0;         // training time, evaluation excluded
  double wall_time_s = 0.0;
  double samples_per_s = 0.0;        // the job's training throughput
  // Set when SIGTERM/SIGINT stopped the run (Session installs the handlers):
  // the signal's name, and the checkpoint to continue from (config.resume),
  // when the method takes one.
  std::string stopped_by_signal;
  std::string checkpoint;
  // config.survive_worker_loss: the ranks the run finished without. Open MPI
  // can then hang in MPI_Finalize: end the process with std::_Exit after
  // writing what you need (the CLI does).
  std::vector<int> lost_ranks;
  std::string json;  // the whole summary, as summary.json holds it
};

// MPI for the life of the object (MPI_Init_thread with MPI_THREAD_MULTIPLE,
// MPI_Finalize when it is destroyed): create one before anything else uses
// MPI, at most one per process. The program may use MPI itself while the
// session lives. Throws ConfigError when MPI is already initialised or a
// session existed before, CommFailure (an Error) when MPI lacks
// MPI_THREAD_MULTIPLE.
class Session {
 public:
  // argc/argv as main() has them, or null. With stop_on_signals, SIGTERM and
  // SIGINT ask a running train() to stop at the next step with a checkpoint,
  // as `distsgd train` does (Summary::stopped_by_signal).
  Session(int* argc, char*** argv, bool stop_on_signals = true);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int rank() const;  // in MPI_COMM_WORLD
  int size() const;

  // Trains `problem` with `config` over every rank of MPI_COMM_WORLD:
  // collective, every rank calls it with the same config. Uses
  // config.threads intra-op threads (torch::set_num_threads). Throws
  // ConfigError for settings or a problem that cannot be trained (the message
  // `distsgd train` would print for the same flags), DataError for samples
  // that break the contract of Samples, RuntimeFailure (CommTimeout,
  // CommFailure, ...) for what fails while running. An error on one rank
  // leaves the others waiting until their deadline (config.timeout_s): catch
  // it, report it, and end the job with abort().
  Summary train(const TrainConfig& config, const Problem& problem);

  // Ends every rank of the job with exit status `code` (MPI_Abort).
  [[noreturn]] static void abort(int code);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Session::train() on a session of this process, created on the first call
// (MPI initialised without argc/argv; finalised at exit).
Summary train(const TrainConfig& config, const Problem& problem);

}  // namespace distsgd
