// The image loader's throughput, as bench/loader_bench.py runs it beside
// PyTorch's DataLoader on the same files. For each --threads count T it
// draws --batches batches of --batch train-transformed samples at --size
// (RandomResizedCrop + flip + normalise) from DIR/train through the trainer's
// path (ImageFolderDataset decoding on T threads behind a BatchFeed that
// prefetches 2 batches; T = 0: all on this thread, no prefetch), after one
// untimed batch, --repeat times, and prints one JSON line per T with the
// median images/s. With --step-batch B it also times resnet18 training
// steps at --size (batch B, 1 thread) against loading one batch of B on
// this thread, and prints that share.
#include <fmt/format.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "data/batch_feed.hpp"
#include "data/image_folder.hpp"
#include "models/model.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// The requests of `count` batches over a permutation of the set, as an epoch draws them.
std::vector<distsgd::data::BatchRequest> requests(int64_t size, int batch, int count, int round) {
  std::vector<distsgd::data::BatchRequest> plan;
  int64_t epoch = 0;
  std::vector<int64_t> order;
  std::size_t at = 0;
  for (int b = 0; b < count; ++b) {
    distsgd::data::BatchRequest request;
    for (int k = 0; k < batch; ++k) {
      if (at == order.size()) {
        order = distsgd::data::shard_for_epoch(size, 0, 1, 1000 * round + 7, epoch++);
        at = 0;
      }
      request.indices.push_back(order[at++]);
    }
    request.seed = static_cast<uint64_t>(round * 100000 + b);
    plan.push_back(std::move(request));
  }
  return plan;
}

// Images per second of `batches` batches (the first untimed) through the feed.
double images_per_s(const std::string& dir, int size, int threads, int batch, int batches,
                    int round) {
  const auto sets = distsgd::data::load_image_folder(dir, {size, threads});
  distsgd::data::BatchFeed feed(*sets.train, threads > 0 ? 2 : 0);
  const auto plan = requests(sets.train->size(), batch, batches + 1, round);
  feed.plan(plan);
  feed.batch(plan[0].indices, plan[0].seed);
  const auto start = Clock::now();
  for (int b = 1; b <= batches; ++b) feed.batch(plan[b].indices, plan[b].seed);
  return static_cast<double>(batches) * batch / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"distsgd image loader benchmark (bench/loader_bench.py runs it)"};
  std::string dir;
  std::vector<int> threads = {1, 2};
  int size = 224, batch = 32, batches = 12, repeat = 3, step_batch = 0, steps = 5;
  app.add_option("--data-dir", dir, "image folder (DIR/train/<class>/...)")->required();
  app.add_option("--threads", threads, "loader thread counts")->delimiter(',');
  app.add_option("--size", size, "output side");
  app.add_option("--batch", batch, "batch size");
  app.add_option("--batches", batches, "timed batches per measurement");
  app.add_option("--repeat", repeat, "measurements per thread count (the median is printed)");
  app.add_option("--step-batch", step_batch, "also time resnet18 steps of this batch (0: no)");
  app.add_option("--steps", steps, "timed resnet18 steps");
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(1);

  for (const int t : threads) {
    std::vector<double> rates;
    for (int r = 0; r < repeat; ++r) rates.push_back(images_per_s(dir, size, t, batch, batches, r));
    fmt::print("{}\n", nlohmann::json{{"kind", "loader"}, {"threads", t},
                                      {"images_per_s", median(rates)}, {"runs", rates}}
                           .dump());
    std::fflush(stdout);
  }
  if (step_batch <= 0) return 0;

  // The loader's share of a resnet18 step: a step (forward, backward, SGD) of
  // step_batch samples against loading step_batch samples on one thread.
  const auto sets = distsgd::data::load_image_folder(dir, {size, 0});
  auto model = distsgd::models::make_model("resnet18", sets.train->shape(), 1000);
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const auto plan = requests(sets.train->size(), step_batch, steps + 1, 99);
  std::vector<double> load_s, step_s;
  for (int s = 0; s <= steps; ++s) {
    auto start = Clock::now();
    auto b = sets.train->batch(plan[s].indices, plan[s].seed);
    const double load = seconds_since(start);
    start = Clock::now();
    sgd.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(b.inputs),
                                                     b.targets.remainder(1000));
    loss.backward();
    sgd.step();
    const double step = seconds_since(start);
    if (s > 0) {  // the first step is a warm-up
      load_s.push_back(load);
      step_s.push_back(step);
    }
  }
  fmt::print("{}\n", nlohmann::json{{"kind", "step"},
                                    {"model", "resnet18"},
                                    {"batch", step_batch},
                                    {"size", size},
                                    {"load_s", median(load_s)},
                                    {"step_s", median(step_s)},
                                    {"share", median(load_s) / median(step_s)}}
                         .dump());
  return 0;
}
