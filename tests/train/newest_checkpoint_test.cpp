// --resume auto and the fallback hint pick the checkpoint furthest in training
// that reads without error: newest_good_checkpoint_in / newest_good_checkpoint.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "temp_dir.hpp"
#include "train/checkpoint.hpp"

namespace distsgd {
namespace {

void write_at_step(const std::string& path, int64_t step) {
  Checkpoint checkpoint;
  checkpoint.meta = {{"step", step}};
  checkpoint.tensors["params"] = {1.0f, 2.0f, static_cast<float>(step)};
  write_checkpoint(path, checkpoint);
}

TEST(NewestGoodCheckpoint, NoneInAnEmptyOrMissingDirectory) {
  testing::TempDir dir;
  EXPECT_FALSE(newest_good_checkpoint_in(dir.path().string()));
  EXPECT_FALSE(newest_good_checkpoint_in(dir.file("no-such-dir")));
}

TEST(NewestGoodCheckpoint, ThePositionDecidesNotTheName) {
  testing::TempDir dir;
  write_at_step(dir.file("checkpoint-epoch2.ckpt"), 400);
  write_at_step(dir.file("checkpoint-step450.ckpt"), 450);
  write_at_step(dir.file("checkpoint-epoch1.ckpt"), 200);
  write_at_step(dir.file("final.ckpt"), 600);  // not a checkpoint to resume
  EXPECT_EQ(newest_good_checkpoint_in(dir.path().string()), dir.file("checkpoint-step450.ckpt"));
}

TEST(NewestGoodCheckpoint, ADamagedNewestIsPassedOver) {
  testing::TempDir dir;
  write_at_step(dir.file("checkpoint-epoch1.ckpt"), 200);
  write_at_step(dir.file("checkpoint-epoch2.ckpt"), 400);
  // Truncate the newest (a crash mid-copy, a full disk).
  std::filesystem::resize_file(dir.file("checkpoint-epoch2.ckpt"), 20);
  EXPECT_EQ(newest_good_checkpoint_in(dir.path().string()), dir.file("checkpoint-epoch1.ckpt"));
  // The fallback beside a damaged --resume FILE is the same search without it.
  EXPECT_EQ(newest_good_checkpoint(dir.file("checkpoint-epoch2.ckpt")),
            dir.file("checkpoint-epoch1.ckpt"));
  EXPECT_FALSE(newest_good_checkpoint(dir.file("checkpoint-epoch1.ckpt")));
}

}  // namespace
}  // namespace distsgd
