// TrainConfig (JSON round trip, validation) and write_file_atomically.
#include "core/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "temp_dir.hpp"

namespace distsgd {
namespace {

// ---------------------------------------------------------------- TrainConfig

// Every field differs from its default, so a field left out of to_json or
// from_json comes back as the default and the comparison fails.
TrainConfig non_default_config() {
  TrainConfig c;
  c.algo = "easgd";
  c.model = "resnet20";
  c.dataset = "cifar10";
  c.data_dir = "/data/cifar";
  c.synthetic_shape = "mnist";
  c.augment = false;
  c.epochs = 30;
  c.batch_size = 128;
  c.lr = 0.125;
  c.momentum = 0.5;
  c.nesterov = true;
  c.weight_decay = 5e-4;
  c.lr_schedule = "cosine";
  c.lr_decay_epochs = {10, 20, 25};
  c.lr_decay = 0.5;
  c.warmup_epochs = 2.5;
  c.lr_scaling = "linear";
  c.max_steps = 12345;
  c.eval_every = 100;
  c.eval_batch_size = 250;
  c.eval_samples = 5000;
  c.evaluations = 7;
  c.target_accuracy = 0.91;
  c.checkpoint_every = 3;
  c.log_dir = "runs/x";
  c.resume = "runs/x/checkpoint.bin";
  c.stop_after_epoch = 7;
  c.quiet = true;
  c.seed = (uint64_t{1} << 63) + 12345;  // does not fit in int64
  c.threads = 4;
  c.device = "cuda";
  c.timeout_s = 12.5;
  c.bucket_mb = 1.5;
  c.image_size = 32;
  c.loader_threads = 5;
  c.bad_images = "skip";
  c.timeline = "runs/x/trace.json";
  return c;
}

void expect_same(const TrainConfig& a, const TrainConfig& b) {
  EXPECT_EQ(a.algo, b.algo);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.dataset, b.dataset);
  EXPECT_EQ(a.data_dir, b.data_dir);
  EXPECT_EQ(a.synthetic_shape, b.synthetic_shape);
  EXPECT_EQ(a.augment, b.augment);
  EXPECT_EQ(a.epochs, b.epochs);
  EXPECT_EQ(a.batch_size, b.batch_size);
  EXPECT_EQ(a.lr, b.lr);
  EXPECT_EQ(a.momentum, b.momentum);
  EXPECT_EQ(a.nesterov, b.nesterov);
  EXPECT_EQ(a.weight_decay, b.weight_decay);
  EXPECT_EQ(a.lr_schedule, b.lr_schedule);
  EXPECT_EQ(a.lr_decay_epochs, b.lr_decay_epochs);
  EXPECT_EQ(a.lr_decay, b.lr_decay);
  EXPECT_EQ(a.warmup_epochs, b.warmup_epochs);
  EXPECT_EQ(a.lr_scaling, b.lr_scaling);
  EXPECT_EQ(a.max_steps, b.max_steps);
  EXPECT_EQ(a.eval_every, b.eval_every);
  EXPECT_EQ(a.eval_batch_size, b.eval_batch_size);
  EXPECT_EQ(a.eval_samples, b.eval_samples);
  EXPECT_EQ(a.evaluations, b.evaluations);
  EXPECT_EQ(a.target_accuracy, b.target_accuracy);
  EXPECT_EQ(a.checkpoint_every, b.checkpoint_every);
  EXPECT_EQ(a.log_dir, b.log_dir);
  EXPECT_EQ(a.resume, b.resume);
  EXPECT_EQ(a.stop_after_epoch, b.stop_after_epoch);
  EXPECT_EQ(a.quiet, b.quiet);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.threads, b.threads);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.timeout_s, b.timeout_s);
  EXPECT_EQ(a.bucket_mb, b.bucket_mb);
  EXPECT_EQ(a.image_size, b.image_size);
  EXPECT_EQ(a.loader_threads, b.loader_threads);
  EXPECT_EQ(a.bad_images, b.bad_images);
  EXPECT_EQ(a.timeline, b.timeline);
  EXPECT_EQ(a.init_from, b.init_from);
}

TEST(TrainConfig, JsonRoundTripOfANonDefaultConfig) {
  const TrainConfig original = non_default_config();
  // Through text, as summary.json and checkpoints store it.
  const auto text = original.to_json().dump();
  const TrainConfig back = TrainConfig::from_json(nlohmann::json::parse(text));
  {
    SCOPED_TRACE("through text");
    expect_same(back, original);
  }
  EXPECT_EQ(back.to_json(), original.to_json());
  EXPECT_EQ(original.to_json().at("seed").get<uint64_t>(), original.seed);
  EXPECT_EQ(original.to_json().at("max_steps"), 12345);
}

TEST(TrainConfig, UnsetOptionalsAreNullAndRoundTrip) {
  TrainConfig original = non_default_config();
  original.max_steps.reset();
  original.target_accuracy.reset();
  original.stop_after_epoch.reset();
  const auto json = original.to_json();
  EXPECT_TRUE(json.at("max_steps").is_null());
  EXPECT_TRUE(json.at("target_accuracy").is_null());
  EXPECT_TRUE(json.at("stop_after_epoch").is_null());
  const TrainConfig back = TrainConfig::from_json(nlohmann::json::parse(json.dump()));
  expect_same(back, original);
  EXPECT_FALSE(back.max_steps.has_value());
  EXPECT_FALSE(back.target_accuracy.has_value());
  EXPECT_FALSE(back.stop_after_epoch.has_value());
}

TEST(TrainConfig, MissingKeysKeepDefaults) {
  const auto back = TrainConfig::from_json(nlohmann::json{{"epochs", 9}, {"model", "mlp"}});
  TrainConfig expected;
  expected.epochs = 9;
  expected.model = "mlp";
  expect_same(back, expected);
  expect_same(TrainConfig::from_json(nlohmann::json::object()), TrainConfig{});
}

// (non_default_config() has --resume, which --init-from excludes.)
TEST(TrainConfig, InitFromIsValidAloneAndRoundTrips) {
  TrainConfig c;
  c.init_from = "runs/x/model.pt";
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(TrainConfig::from_json(nlohmann::json::parse(c.to_json().dump())).init_from,
            c.init_from);
}

TEST(TrainConfig, DefaultsAndBoundaryValuesAreValid) {
  EXPECT_NO_THROW(TrainConfig{}.validate());
  EXPECT_NO_THROW(non_default_config().validate());
  TrainConfig c;
  c.epochs = 5;
  c.lr = 0;
  c.momentum = 0;
  c.lr_decay = 1;
  c.lr_decay_epochs = {1, 2, 4};
  c.stop_after_epoch = 5;
  c.target_accuracy = 1.0;
  c.checkpoint_every = 0;
  c.eval_every = 0;
  c.max_steps = 1;
  EXPECT_NO_THROW(c.validate());
}

struct BadCase {
  std::string name;
  std::function<void(TrainConfig&)> spoil;
};

TEST(TrainConfig, EachBadFieldIsAConfigError) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<BadCase> cases = {
      {"epochs 0", [](TrainConfig& c) { c.epochs = 0; }},
      {"image_size 0", [](TrainConfig& c) { c.image_size = 0; }},
      {"loader_threads -1", [](TrainConfig& c) { c.loader_threads = -1; }},
      {"bad_images unknown", [](TrainConfig& c) { c.bad_images = "ignore"; }},
      {"epochs -1", [](TrainConfig& c) { c.epochs = -1; }},
      {"batch_size 0", [](TrainConfig& c) { c.batch_size = 0; }},
      {"lr negative", [](TrainConfig& c) { c.lr = -0.1; }},
      {"lr NaN", [nan](TrainConfig& c) { c.lr = nan; }},
      {"lr inf", [inf](TrainConfig& c) { c.lr = inf; }},
      {"momentum 1", [](TrainConfig& c) { c.momentum = 1.0; }},
      {"momentum negative", [](TrainConfig& c) { c.momentum = -0.1; }},
      {"momentum NaN", [nan](TrainConfig& c) { c.momentum = nan; }},
      {"nesterov without momentum",
       [](TrainConfig& c) {
         c.nesterov = true;
         c.momentum = 0;
       }},
      {"weight_decay negative", [](TrainConfig& c) { c.weight_decay = -1e-4; }},
      {"lr_schedule unknown", [](TrainConfig& c) { c.lr_schedule = "linear"; }},
      {"lr_decay 0", [](TrainConfig& c) { c.lr_decay = 0; }},
      {"lr_decay above 1", [](TrainConfig& c) { c.lr_decay = 1.5; }},
      {"lr_decay_epochs repeated",
       [](TrainConfig& c) {
         c.lr_decay_epochs = {5, 5};
       }},
      {"lr_decay_epochs decreasing",
       [](TrainConfig& c) {
         c.lr_decay_epochs = {5, 3};
       }},
      {"lr_decay_epochs zero",
       [](TrainConfig& c) {
         c.lr_decay_epochs = {0, 3};
       }},
      {"lr_decay_epochs late decrease",
       [](TrainConfig& c) {
         c.lr_decay_epochs = {2, 6, 4};
       }},
      {"warmup_epochs negative", [](TrainConfig& c) { c.warmup_epochs = -1; }},
      {"lr_scaling unknown", [](TrainConfig& c) { c.lr_scaling = "cubic"; }},
      {"max_steps 0", [](TrainConfig& c) { c.max_steps = 0; }},
      {"eval_every negative", [](TrainConfig& c) { c.eval_every = -1; }},
      {"eval_batch_size 0", [](TrainConfig& c) { c.eval_batch_size = 0; }},
      {"eval_samples negative", [](TrainConfig& c) { c.eval_samples = -1; }},
      {"evaluations negative", [](TrainConfig& c) { c.evaluations = -1; }},
      {"target_accuracy 0", [](TrainConfig& c) { c.target_accuracy = 0.0; }},
      {"target_accuracy above 1", [](TrainConfig& c) { c.target_accuracy = 1.5; }},
      {"checkpoint_every negative", [](TrainConfig& c) { c.checkpoint_every = -1; }},
      {"stop_after_epoch 0", [](TrainConfig& c) { c.stop_after_epoch = 0; }},
      {"stop_after_epoch > epochs",
       [](TrainConfig& c) {
         c.epochs = 3;
         c.stop_after_epoch = 4;
       }},
      {"threads 0", [](TrainConfig& c) { c.threads = 0; }},
      {"device unknown", [](TrainConfig& c) { c.device = "tpu"; }},
      {"timeout_s 0", [](TrainConfig& c) { c.timeout_s = 0; }},
      {"bucket_mb 0", [](TrainConfig& c) { c.bucket_mb = 0; }},
      {"bucket_mb negative", [](TrainConfig& c) { c.bucket_mb = -1; }},
      {"log_dir empty", [](TrainConfig& c) { c.log_dir.clear(); }},
      {"asgd_rule unknown", [](TrainConfig& c) { c.asgd_rule = "downpour"; }},
      {"asgd_rule empty", [](TrainConfig& c) { c.asgd_rule.clear(); }},
      {"init_from with resume",
       [](TrainConfig& c) {
         c.init_from = "model.pt";
         c.resume = "runs/x/checkpoint-epoch1.ckpt";
       }},
  };
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.name);
    TrainConfig c;
    ASSERT_NO_THROW(c.validate());
    bad.spoil(c);
    try {
      c.validate();
      ADD_FAILURE() << "validate() accepted " << bad.name;
    } catch (const ConfigError& error) {
      EXPECT_EQ(error.exit_code(), 2);
      EXPECT_NE(std::string(error.what()).find("--"), std::string::npos)
          << "message names no flag: " << error.what();
    }
  }
}

TEST(TrainConfig, ErrorMessageNamesTheFlagAndValue) {
  TrainConfig c;
  c.momentum = 1.0;
  try {
    c.validate();
    FAIL() << "momentum 1 accepted";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("--momentum"), std::string::npos) << message;
    EXPECT_NE(message.find("1"), std::string::npos) << message;
  }
  c = TrainConfig{};
  c.lr_schedule = "exp";
  try {
    c.validate();
    FAIL() << "lr_schedule exp accepted";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("--lr-schedule"), std::string::npos) << message;
    EXPECT_NE(message.find("exp"), std::string::npos) << message;
  }
}

TEST(TrainConfig, EvalIntervalFromTheRunsLength) {
  TrainConfig c;
  EXPECT_EQ(c.eval_interval(468), 0);  // the default: at epoch ends
  c.evaluations = 10;
  EXPECT_EQ(c.eval_interval(468), 46);  // 10 during the run (46..460), then the final one
  EXPECT_EQ(c.eval_interval(5), 1);     // never 0: at most one per step
  c.eval_every = 100;
  EXPECT_EQ(c.eval_interval(468), 100);  // an explicit cadence wins
}

TEST(TrainConfig, NanPolicyParsedOnce) {
  EXPECT_EQ(parse_nan_policy("stop"), NanPolicy::stop);
  EXPECT_EQ(parse_nan_policy("skip"), NanPolicy::skip);
  EXPECT_EQ(parse_nan_policy("ignore"), std::nullopt);
  EXPECT_EQ(parse_nan_policy(""), std::nullopt);
  TrainConfig c;
  EXPECT_EQ(c.nan_policy_kind(), NanPolicy::stop);
  c.nan_policy = "skip";
  EXPECT_EQ(c.nan_policy_kind(), NanPolicy::skip);
  c.nan_policy = "ignore";
  try {
    c.validate();
    FAIL() << "nan_policy ignore accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), "--nan-policy must be stop or skip (got 'ignore')");
  }
}

// ---------------------------------------------------------- write_file_atomically

using distsgd::testing::TempDir;

using distsgd::testing::read_all;

using distsgd::testing::entries_of;

TEST(AtomicFile, WritesTheContent) {
  TempDir dir;
  const std::string path = dir.file("out.bin");
  const std::string content("binary\0with\0zeros\nand lines\n", 28);
  write_file_atomically(path, content);
  EXPECT_EQ(read_all(path), content);
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"out.bin"});
}

TEST(AtomicFile, WritesALargeFile) {
  TempDir dir;
  const std::string path = dir.file("big");
  std::string content(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 31 % 251);
  write_file_atomically(path, content);
  EXPECT_EQ(read_all(path), content);
}

TEST(AtomicFile, OverwritesWithShorterAndEmptyContent) {
  TempDir dir;
  const std::string path = dir.file("config.json");
  write_file_atomically(path, "a long first version of the file");
  write_file_atomically(path, "short");
  EXPECT_EQ(read_all(path), "short");
  write_file_atomically(path, "");
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"config.json"});
}

TEST(AtomicFile, RelativePathWithoutDirectory) {
  TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  EXPECT_NO_THROW(write_file_atomically("plain.txt", "here"));
  std::filesystem::current_path(cwd);
  EXPECT_EQ(read_all(dir.file("plain.txt")), "here");
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"plain.txt"});
}

void expect_failure_naming(const std::string& path) {
  try {
    write_file_atomically(path, "content");
    ADD_FAILURE() << "no error writing " << path;
  } catch (const RuntimeFailure& error) {
    EXPECT_EQ(error.exit_code(), 1);
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
}

TEST(AtomicFile, UnwritableDirectoryIsARuntimeFailureNamingThePath) {
  TempDir dir;
  // Root ignores permission bits, so make the directory unusable another way:
  // one that does not exist, and one whose "directory" is a regular file.
  expect_failure_naming(dir.file("no/such/dir/out.bin"));
  write_file_atomically(dir.file("a_file"), "x");
  expect_failure_naming(dir.file("a_file") + "/out.bin");
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"a_file"});
}

TEST(AtomicFile, FailedRenameLeavesNoTemporaryFile) {
  TempDir dir;
  // The target is a non-empty directory: the temporary is written, the rename fails.
  std::filesystem::create_directories(dir.path() / "target" / "inside");
  expect_failure_naming(dir.file("target"));
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"target"});
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "target" / "inside"));
}

}  // namespace
}  // namespace distsgd
