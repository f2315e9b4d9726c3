// LrSchedule against its formulas, and checkpoint files: exact round trip, and
// every truncated or corrupt file refused with an error that names it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/errors.hpp"
#include "temp_dir.hpp"
#include "train/checkpoint.hpp"
#include "train/lr_schedule.hpp"

namespace distsgd {
namespace {

// ------------------------------------------------------------------ LrSchedule

TrainConfig schedule_config() {
  TrainConfig c;
  c.lr = 0.1;
  c.epochs = 6;
  c.lr_schedule = "step";
  c.lr_decay_epochs = {2, 4};
  c.lr_decay = 0.1;
  return c;
}

TEST(LrSchedule, StepDecayAtTheGivenEpochs) {
  const LrSchedule schedule(schedule_config(), 1, 10);
  EXPECT_DOUBLE_EQ(schedule.base(), 0.1);
  EXPECT_DOUBLE_EQ(schedule.at(0), 0.1);
  EXPECT_DOUBLE_EQ(schedule.at(19), 0.1);  // last step of epoch 1
  EXPECT_NEAR(schedule.at(20), 0.01, 1e-15);
  EXPECT_NEAR(schedule.at(39), 0.01, 1e-15);
  EXPECT_NEAR(schedule.at(40), 0.001, 1e-15);
  EXPECT_NEAR(schedule.at(59), 0.001, 1e-15);
}

TEST(LrSchedule, NoDecayEpochsMeansConstant) {
  TrainConfig c = schedule_config();
  c.lr_decay_epochs.clear();
  const LrSchedule schedule(c, 1, 10);
  for (int64_t step : {0, 15, 33, 59}) EXPECT_DOUBLE_EQ(schedule.at(step), 0.1) << step;
}

TEST(LrSchedule, CosineEndpointsAndMiddle) {
  TrainConfig c = schedule_config();
  c.lr_schedule = "cosine";  // lr_decay_epochs are ignored
  c.epochs = 10;
  const LrSchedule schedule(c, 1, 100);
  EXPECT_DOUBLE_EQ(schedule.at(0), 0.1);
  EXPECT_NEAR(schedule.at(500), 0.05, 1e-12);
  EXPECT_NEAR(schedule.at(250), 0.1 * 0.5 * (1 + std::cos(std::numbers::pi / 4)), 1e-12);
  EXPECT_NEAR(schedule.at(1000), 0.0, 1e-12);
  EXPECT_NEAR(schedule.at(999), 0.0, 1e-6);
  EXPECT_GT(schedule.at(999), 0.0);
  EXPECT_NEAR(schedule.at(1200), 0.0, 1e-12);  // past the end it stays at 0
  double previous = schedule.at(0);
  for (int64_t step = 1; step <= 1000; ++step) {
    const double lr = schedule.at(step);
    ASSERT_LE(lr, previous) << step;
    ASSERT_GE(lr, 0.0) << step;
    previous = lr;
  }
}

TEST(LrSchedule, WarmUpIsLinearAndReachesTheBase) {
  TrainConfig c = schedule_config();
  c.warmup_epochs = 2;
  const LrSchedule schedule(c, 1, 10);  // 20 warm-up steps
  EXPECT_NEAR(schedule.at(0), 0.1 / 20, 1e-15);
  const double increment = schedule.at(1) - schedule.at(0);
  EXPECT_GT(increment, 0.0);
  for (int64_t step = 0; step < 20; ++step) {
    EXPECT_NEAR(schedule.at(step), 0.1 * (step + 1) / 20, 1e-15) << step;
    if (step > 0) {
      EXPECT_NEAR(schedule.at(step) - schedule.at(step - 1), increment, 1e-15) << step;
    }
  }
  EXPECT_DOUBLE_EQ(schedule.at(19), 0.1);   // reaches the base ...
  EXPECT_DOUBLE_EQ(schedule.at(20), 0.01);  // ... and the decay at epoch 2 follows
  EXPECT_DOUBLE_EQ(schedule.at(21), 0.01);

  // A fractional warm-up (half an epoch of 10 steps).
  c.warmup_epochs = 0.5;
  c.lr_decay_epochs.clear();
  const LrSchedule half(c, 1, 10);
  EXPECT_NEAR(half.at(0), 0.1 / 5, 1e-15);
  EXPECT_NEAR(half.at(4), 0.1, 1e-15);
  EXPECT_DOUBLE_EQ(half.at(5), 0.1);
}

TEST(LrSchedule, WarmUpThenCosine) {
  TrainConfig c = schedule_config();
  c.lr_schedule = "cosine";
  c.epochs = 10;
  c.warmup_epochs = 1;
  const LrSchedule schedule(c, 1, 10);
  EXPECT_LT(schedule.at(0), 0.02);
  EXPECT_NEAR(schedule.at(50), 0.05, 1e-12);
  EXPECT_NEAR(schedule.at(100), 0.0, 1e-12);
}

TEST(LrSchedule, LinearScalingMultipliesByWorkers) {
  TrainConfig c = schedule_config();
  c.lr_scaling = "linear";
  const LrSchedule eight(c, 8, 10);
  EXPECT_DOUBLE_EQ(eight.base(), 0.8);
  EXPECT_DOUBLE_EQ(eight.at(0), 0.8);
  EXPECT_NEAR(eight.at(25), 0.08, 1e-15);
  c.lr_scaling = "none";
  const LrSchedule unscaled(c, 8, 10);
  EXPECT_DOUBLE_EQ(unscaled.base(), 0.1);
  EXPECT_DOUBLE_EQ(unscaled.at(0), 0.1);
}

TEST(LrSchedule, SqrtAndInverseScaling) {
  TrainConfig c = schedule_config();
  c.lr_scaling = "sqrt";
  EXPECT_DOUBLE_EQ(LrSchedule(c, 16, 10).base(), 0.4);
  c.lr_scaling = "inverse";
  EXPECT_DOUBLE_EQ(LrSchedule(c, 4, 10).base(), 0.025);
  c.lr_scaling = "cubic";
  EXPECT_THROW(c.validate(), ConfigError);
}

TEST(LrSchedule, ZeroStepsPerEpochDoesNotDivideByZero) {
  const LrSchedule schedule(schedule_config(), 1, 0);
  EXPECT_TRUE(std::isfinite(schedule.at(0)));
  EXPECT_NEAR(schedule.at(2), 0.01, 1e-15);  // one step an epoch
}

// ----------------------------------------------------------------- Checkpoints

using distsgd::testing::TempDir;

using distsgd::testing::read_all;

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

using distsgd::testing::entries_of;

Checkpoint sample_checkpoint() {
  Checkpoint checkpoint;
  checkpoint.meta = {{"step", 1234},
                     {"epoch", 3},
                     {"config", {{"lr", 0.05}, {"model", "cnn"}, {"lr_decay_epochs", {2, 4}}}},
                     {"note", "unicode \xc3\xa9 and \"quotes\""}};
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> params(1000);
  for (float& v : params) v = normal(rng);
  params[0] = -0.0f;
  params[1] = std::numeric_limits<float>::quiet_NaN();
  params[2] = std::numeric_limits<float>::infinity();
  params[3] = std::numeric_limits<float>::denorm_min();
  checkpoint.tensors["params"] = params;
  checkpoint.tensors["momentum"] = std::vector<float>(37, 0.5f);
  checkpoint.tensors["a empty one"] = {};
  return checkpoint;
}

// Bit-exact, so NaN and -0 count too.
void expect_same(const Checkpoint& a, const Checkpoint& b) {
  EXPECT_EQ(a.meta, b.meta);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, values] : a.tensors) {
    SCOPED_TRACE(name);
    ASSERT_EQ(b.tensors.count(name), 1u);
    const auto& other = b.tensors.at(name);
    ASSERT_EQ(values.size(), other.size());
    // memcmp on an empty vector's data() (may be null) is undefined, even for 0 bytes.
    if (!values.empty()) {
      EXPECT_EQ(std::memcmp(values.data(), other.data(), values.size() * sizeof(float)), 0);
    }
  }
}

// Expects read_checkpoint(path) to throw DataError naming the path and
// containing `word`; returns the message.
std::string expect_data_error(const std::string& path, const std::string& word) {
  try {
    read_checkpoint(path);
    ADD_FAILURE() << "read " << path << " without error";
    return "";
  } catch (const DataError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(word), std::string::npos) << "no '" << word << "' in: " << message;
    EXPECT_EQ(error.exit_code(), 2);
    return message;
  }
}

// Offset of the first float of tensor `name` in a checkpoint file.
std::size_t data_offset(const std::string& bytes, const std::string& name) {
  // [u32 name length][name][u64 numel][floats]
  std::string marker(4, '\0');
  const auto length = static_cast<uint32_t>(name.size());
  std::memcpy(marker.data(), &length, 4);
  marker += name;
  const auto at = bytes.find(marker);
  EXPECT_NE(at, std::string::npos);
  return at + marker.size() + 8;
}

TEST(Checkpoint, RoundTripIsExact) {
  TempDir dir;
  const std::string path = dir.file("checkpoint.bin");
  const Checkpoint original = sample_checkpoint();
  write_checkpoint(path, original);
  expect_same(read_checkpoint(path), original);
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"checkpoint.bin"});
}

TEST(Checkpoint, EmptyCheckpointRoundTrips) {
  TempDir dir;
  const std::string path = dir.file("empty.ckpt");
  write_checkpoint(path, Checkpoint{});
  const Checkpoint back = read_checkpoint(path);
  EXPECT_TRUE(back.meta.is_object());
  EXPECT_TRUE(back.meta.empty());
  EXPECT_TRUE(back.tensors.empty());
}

TEST(Checkpoint, OverwriteReplacesAndLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.file("checkpoint.bin");
  write_checkpoint(path, sample_checkpoint());
  Checkpoint second;
  second.meta = {{"step", 99}};
  second.tensors["params"] = {1.0f, 2.0f};
  write_checkpoint(path, second);
  expect_same(read_checkpoint(path), second);
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"checkpoint.bin"});
}

TEST(Checkpoint, TruncatedAnywhereIsADataErrorNamingTheFile) {
  TempDir dir;
  const std::string good = dir.file("good.bin");
  write_checkpoint(good, sample_checkpoint());
  const std::string bytes = read_all(good);
  const std::size_t meta_size = sample_checkpoint().meta.dump().size();
  const std::size_t params_at = data_offset(bytes, "params");
  ASSERT_GT(params_at, 20 + meta_size);
  ASSERT_EQ(params_at + 1000 * sizeof(float) + 4, bytes.size());  // "params" is the last tensor

  const std::string path = dir.file("cut.bin");
  struct Cut {
    std::size_t size;
    std::string word;
  };
  const std::vector<Cut> cuts = {
      {0, "magic"},                       // empty file
      {5, "magic"},                       // inside the magic number
      {10, "truncated"},                  // inside the version
      {16, "truncated"},                  // inside the header length
      {20, "truncated"},                  // no JSON at all
      {20 + meta_size / 2, "truncated"},  // inside the JSON
      {20 + meta_size + 2, "truncated"},  // inside the tensor count
      {params_at - 4, "truncated"},       // inside the tensor length
      {params_at + 2000, "truncated"},    // inside the tensor data
      {bytes.size() - 4, "truncated"},    // the CRC missing
      {bytes.size() - 2, "truncated"},    // inside the CRC
      {bytes.size() - 1, "truncated"},
  };
  for (const auto& cut : cuts) {
    SCOPED_TRACE(cut.size);
    write_all(path, bytes.substr(0, cut.size));
    expect_data_error(path, cut.word);
  }
}

TEST(Checkpoint, FlippedByteInTensorDataIsACrcError) {
  TempDir dir;
  const std::string path = dir.file("checkpoint.bin");
  write_checkpoint(path, sample_checkpoint());
  const std::string bytes = read_all(path);
  const std::size_t at = data_offset(bytes, "params") + 1234;
  std::string bad = bytes;
  bad[at] = static_cast<char>(bad[at] ^ 0x10);
  write_all(path, bad);
  const std::string message = expect_data_error(path, "CRC");
  EXPECT_NE(message.find("corrupt"), std::string::npos) << message;
}

TEST(Checkpoint, FlippedByteInHeaderOrCrcIsACrcError) {
  TempDir dir;
  const std::string path = dir.file("checkpoint.bin");
  write_checkpoint(path, sample_checkpoint());
  const std::string bytes = read_all(path);
  // A digit of the JSON: still valid JSON, different numbers.
  const std::size_t digit = bytes.find("1234");
  ASSERT_NE(digit, std::string::npos);
  std::string bad = bytes;
  bad[digit] = '7';
  write_all(path, bad);
  expect_data_error(path, "CRC");

  bad = bytes;
  bad[bytes.size() - 3] = static_cast<char>(bad[bytes.size() - 3] ^ 0x01);
  write_all(path, bad);
  expect_data_error(path, "CRC");
}

TEST(Checkpoint, TrailingBytesAreADataError) {
  TempDir dir;
  const std::string path = dir.file("checkpoint.bin");
  write_checkpoint(path, sample_checkpoint());
  write_all(path, read_all(path) + std::string("junk", 4));
  expect_data_error(path, "corrupt");
}

TEST(Checkpoint, BadMagicAndUnknownVersion) {
  TempDir dir;
  const std::string path = dir.file("not-a-checkpoint.bin");
  write_all(path, "this is a text file, not a checkpoint at all\n");
  expect_data_error(path, "magic");

  write_checkpoint(path, sample_checkpoint());
  std::string bytes = read_all(path);
  bytes[8] = 2;  // version 2
  write_all(path, bytes);
  expect_data_error(path, "version");
}

TEST(Checkpoint, MissingFileIsADataError) {
  TempDir dir;
  expect_data_error(dir.file("does-not-exist.bin"), "does-not-exist.bin");
}

TEST(Checkpoint, UnwritableDirectoryIsARuntimeFailure) {
  TempDir dir;
  const std::string path = dir.file("missing/dir/checkpoint.bin");
  try {
    write_checkpoint(path, sample_checkpoint());
    ADD_FAILURE() << "wrote into a missing directory";
  } catch (const RuntimeFailure& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace distsgd
