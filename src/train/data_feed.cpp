#include "train/data_feed.hpp"

#include "train/train_step.hpp"

namespace distsgd {
namespace {

// Batches computed ahead: two keep the step fed through one slow batch and
// bound the memory to two batches (resnet50 at 224, batch 64: 2 x 38 MB).
constexpr int kPrefetchDepth = 2;

}  // namespace

data::DataOptions data_options(const TrainConfig& config) {
  data::DataOptions options{config.dataset, config.data_dir, config.synthetic_shape, config.seed};
  options.image_size = config.image_size;
  options.decode_threads = config.loader_threads;
  options.bad_images = config.bad_images;
  return options;
}

std::unique_ptr<data::BatchFeed> make_feed(const TrainConfig& config, const data::Dataset& train) {
  const bool prefetch = config.dataset == "image-folder" && config.loader_threads > 0;
  return std::make_unique<data::BatchFeed>(train, prefetch ? kPrefetchDepth : 0);
}

std::vector<data::BatchRequest> epoch_plan(const TrainConfig& config, int rank,
                                           const std::vector<int64_t>& shard,
                                           int64_t step_in_epoch, int64_t step,
                                           int64_t steps_per_epoch, int64_t last_step) {
  std::vector<data::BatchRequest> plan;
  for (int64_t s = step_in_epoch; s < steps_per_epoch && step < last_step; ++s, ++step) {
    const auto first = shard.begin() + s * config.batch_size;
    plan.push_back({std::vector<int64_t>(first, first + config.batch_size),
                    config.augment ? std::optional(augment_seed(config.seed, rank, step))
                                   : std::nullopt});
  }
  return plan;
}

}  // namespace distsgd
