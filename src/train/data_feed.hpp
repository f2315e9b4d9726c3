#pragma once
// How a run gets its data: the data set options from the config, and the
// loader's prefetch (data/batch_feed.hpp) in front of the training set with
// the plan of the batches a worker's epoch will ask for.
#include <cstdint>
#include <memory>
#include <vector>

#include "core/config.hpp"
#include "data/batch_feed.hpp"
#include "data/dataset.hpp"

namespace distsgd {

// --dataset, --data-dir, --synthetic-shape, --seed, --image-size,
// --loader-threads, --bad-images as data::load_datasets takes them.
data::DataOptions data_options(const TrainConfig& config);

// The training set behind a feed: image folders prefetch when
// --loader-threads > 0 (the in-memory sets gain nothing from it).
std::unique_ptr<data::BatchFeed> make_feed(const TrainConfig& config, const data::Dataset& train);

// The batches TrainStep asks for from `step_in_epoch` of this epoch's
// `shard` on (global step `step`), up to the end of the epoch or `last_step`
// (exclusive), with the augmentation seeds of train_step.hpp for `rank`.
std::vector<data::BatchRequest> epoch_plan(const TrainConfig& config, int rank,
                                           const std::vector<int64_t>& shard,
                                           int64_t step_in_epoch, int64_t step,
                                           int64_t steps_per_epoch, int64_t last_step);

}  // namespace distsgd
