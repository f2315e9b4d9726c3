// custom_model: distsgd as a library. A model of its own (a small CNN with
// batch norm) learns a data set of its own (noisy 8x8 images of four stripe
// patterns, made up from a seed) with any of distsgd's methods:
//
//   mpirun -np 2 custom_model --algo allreduce
//   mpirun -np 3 custom_model --algo easgd          (the last rank serves)
//
// Prints the summary's figures on rank 0 and exits 3 when the final test
// accuracy is below --min-accuracy (default 0.9), 2 for bad flags or
// settings, 1 for a failure while training, 143 (130) when SIGTERM (SIGINT)
// stopped it: continue with --resume auto.
#include <distsgd/distsgd.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

// Four classes of 1x8x8 images: horizontal stripes, vertical stripes, the
// diagonal and a checkerboard, each plus Gaussian noise. Made once from a
// seed of its own (not torch's global generator), so every rank holds the
// same samples.
class StripesDataset : public torch::data::datasets::Dataset<StripesDataset> {
 public:
  StripesDataset(int64_t size, uint64_t seed, double noise) {
    auto generator = at::detail::createCPUGenerator(seed);
    labels_ = torch::randint(0, 4, {size}, generator, torch::kInt64);
    const auto rows = torch::arange(8).view({8, 1}), cols = torch::arange(8).view({1, 8});
    std::vector<torch::Tensor> patterns;
    for (const auto& pattern : {(rows % 2).expand({8, 8}), (cols % 2).expand({8, 8}),
                                (rows == cols).expand({8, 8}), (rows + cols) % 2})
      patterns.push_back(pattern.to(torch::kFloat32) * 2 - 1);  // values -1 and 1
    const auto stacked = torch::stack(patterns);
    inputs_ = stacked.index_select(0, labels_).unsqueeze(1) +
              noise * torch::randn({size, 1, 8, 8}, generator);
  }

  torch::data::Example<> get(std::size_t index) override {
    const auto i = static_cast<int64_t>(index);
    return {inputs_[i], labels_[i]};
  }
  torch::optional<std::size_t> size() const override { return labels_.size(0); }

 private:
  torch::Tensor inputs_, labels_;
};

// conv 3x3 (8) -> batch norm -> ReLU -> 2x2 max pool -> linear to 4 logits.
struct TinyCnnImpl : torch::nn::Module {
  TinyCnnImpl()
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 8, 3).padding(1)))),
        norm(register_module("norm", torch::nn::BatchNorm2d(8))),
        head(register_module("head", torch::nn::Linear(8 * 4 * 4, 4))) {}

  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(norm(conv(x))), 2);
    return head(x.flatten(1));
  }

  torch::nn::Conv2d conv;
  torch::nn::BatchNorm2d norm;
  torch::nn::Linear head;
};
TORCH_MODULE(TinyCnn);

struct Options {
  distsgd::TrainConfig config;
  double min_accuracy = 0.9;
  double noise = 1.5;
};

// --algo NAME --epochs N --batch-size N --lr X --log-dir DIR --seed N
// --resume PATH|auto --min-accuracy X --noise X: the train flags this
// example exposes (every other setting keeps TrainConfig's default).
Options parse(int argc, char** argv) {
  Options options;
  auto& config = options.config;
  config.epochs = 3;
  config.batch_size = 32;
  config.log_dir = "runs/custom_model";
  config.quiet = true;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw distsgd::ConfigError(flag + ": a value is missing");
    const std::string value = argv[++i];
    if (flag == "--algo") config.algo = value;
    else if (flag == "--epochs") config.epochs = std::stoll(value);
    else if (flag == "--batch-size") config.batch_size = std::stoll(value);
    else if (flag == "--lr") config.lr = std::stod(value);
    else if (flag == "--log-dir") config.log_dir = value;
    else if (flag == "--seed") config.seed = std::stoull(value);
    else if (flag == "--resume") config.resume = value;
    else if (flag == "--min-accuracy") options.min_accuracy = std::stod(value);
    else if (flag == "--noise") options.noise = std::stod(value);
    else throw distsgd::ConfigError("unknown flag " + flag);
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  distsgd::Session session(&argc, &argv);
  try {
    const Options options = parse(argc, argv);
    distsgd::Problem problem;
    problem.model = [] { return torch::nn::AnyModule(TinyCnn()); };
    problem.train = distsgd::samples_of(StripesDataset(2048, /*seed=*/11, options.noise));
    problem.test = distsgd::samples_of(StripesDataset(512, /*seed=*/12, options.noise));
    problem.num_classes = 4;
    problem.model_name = "tiny-cnn";
    problem.dataset_name = "stripes";

    const distsgd::Summary summary = session.train(options.config, problem);
    if (!summary.worker) return 0;  // a parameter server: the workers report
    if (!summary.stopped_by_signal.empty()) {
      // SIGTERM/SIGINT (a preempted job): not finished; the status of a
      // process ended by that signal, as `distsgd train` exits.
      if (session.rank() == 0)
        std::fprintf(stderr, "custom_model: stopped by %s%s%s\n",
                     summary.stopped_by_signal.c_str(),
                     summary.checkpoint.empty() ? "" : "; continue with --resume ",
                     summary.checkpoint.c_str());
      return 128 + (summary.stopped_by_signal == "SIGINT" ? 2 : 15);
    }
    if (session.rank() == 0)
      std::printf(
          "custom_model: %s on %d rank(s): test accuracy %.4f after %.3g epoch(s), %lld steps, "
          "%.2f s training, %.0f samples/s\n",
          options.config.algo.c_str(), session.size(), summary.final_test_accuracy,
          summary.epochs, static_cast<long long>(summary.steps), summary.train_time_s,
          summary.samples_per_s);
    if (summary.final_test_accuracy < options.min_accuracy) {
      std::fprintf(stderr, "custom_model: rank %d: test accuracy %.4f is below %.4f\n",
                   session.rank(), summary.final_test_accuracy, options.min_accuracy);
      return 3;
    }
    return 0;
  } catch (const std::exception& error) {
    const auto* known = dynamic_cast<const distsgd::Error*>(&error);
    std::fprintf(stderr, "custom_model: rank %d: error: %s\n", session.rank(), error.what());
    const int code = known ? known->exit_code() : 1;
    // The other ranks may be waiting for this one: end the job.
    if (session.size() > 1) distsgd::Session::abort(code);
    return code;
  }
}
