// The trainer's data wiring: the data set options from the config, and the
// prefetch plan of an epoch, which must be exactly what TrainStep asks for
// (the same indices and augmentation seeds), also from a resumed position.
#include "train/data_feed.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "train/train_step.hpp"

namespace distsgd {
namespace {

TEST(DataFeed, OptionsCarryTheImageFolderSettings) {
  TrainConfig config;
  config.dataset = "image-folder";
  config.data_dir = "/data/x";
  config.image_size = 32;
  config.loader_threads = 3;
  config.bad_images = "skip";
  const auto options = data_options(config);
  EXPECT_EQ(options.name, "image-folder");
  EXPECT_EQ(options.dir, "/data/x");
  EXPECT_EQ(options.image_size, 32);
  EXPECT_EQ(options.decode_threads, 3);
  EXPECT_EQ(options.bad_images, "skip");
}

TEST(DataFeed, EpochPlanIsWhatTheStepsAskForFromTheResumedStep) {
  TrainConfig config;
  config.batch_size = 4;
  config.seed = 9;
  std::vector<int64_t> shard(40);
  std::iota(shard.begin(), shard.end(), 100);
  // Epoch 2 of 10 steps, resumed at its step 3 (global step 23), run to 27.
  const auto plan = epoch_plan(config, /*rank=*/1, shard, 3, 23, 10, 27);
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0].indices, (std::vector<int64_t>{112, 113, 114, 115}));
  EXPECT_EQ(plan[0].seed, augment_seed(9, 1, 23));
  EXPECT_EQ(plan[3].indices, (std::vector<int64_t>{124, 125, 126, 127}));
  EXPECT_EQ(plan[3].seed, augment_seed(9, 1, 26));
  // To the end of the epoch when the run goes on; no seed without augmentation.
  config.augment = false;
  const auto rest = epoch_plan(config, 0, shard, 8, 28, 10, 1000);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[1].indices.front(), 136);
  EXPECT_FALSE(rest[1].seed.has_value());
}

}  // namespace
}  // namespace distsgd
