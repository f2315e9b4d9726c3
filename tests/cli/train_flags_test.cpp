// The flags of `distsgd train` (add_train_flags): each flag sets its own field
// of TrainConfig and no other, every field has a flag, and a bad flag or value
// is a CLI11 error naming the flag.
#include "cli/train_flags.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace distsgd::cli {
namespace {

// The config after parsing `command_line` as the flags of `train`.
TrainConfig parse(const std::string& command_line) {
  CLI::App app("train");
  TrainConfig config;
  add_train_flags(app, config);
  app.parse(command_line, false);
  return config;
}

struct FlagCase {
  const char* flags;
  const char* field;     // the one TrainConfig field (its to_json key) they change
  nlohmann::json value;  // its value then
};

// One case per field of TrainConfig (to_json's keys).
const FlagCase kFlagCases[] = {
    {"--algo easgd", "algo", "easgd"},
    {"--servers 2", "servers", 2},
    {"--max-staleness 3", "max_staleness", 3},
    {"--asgd-rule plain", "asgd_rule", "plain"},
    {"--tau 4", "tau", 4},
    {"--easgd-beta 0.5", "easgd_beta", 0.5},
    {"--topology ring", "topology", "ring"},
    {"--gossip-peers 2", "gossip_peers", 2},
    {"--push-mode average", "push_mode", "average"},
    {"--gossip-momentum", "gossip_momentum", true},
    {"--local-steps 8", "local_steps", 8},
    {"--post-local-after 2", "post_local_after", 2},
    {"--average-momentum", "average_momentum", true},
    {"--global-every 16", "global_every", 16},
    {"--gossip-mode push", "gossip_mode", "push"},
    {"--straggler 1:4", "straggler", "1:4"},
    {"--straggler-random 0.1:200", "straggler_random", "0.1:200"},
    {"--leave-early 1:5", "leave_early", "1:5"},
    {"--inject-nan 0:3", "inject_nan", "0:3"},
    {"--survive-worker-loss", "survive_worker_loss", true},
    {"--model mlp", "model", "mlp"},
    {"--dataset synthetic", "dataset", "synthetic"},
    {"--data-dir /data/fm", "data_dir", "/data/fm"},
    {"--synthetic-shape imagenet", "synthetic_shape", "imagenet"},
    {"--no-augment", "augment", false},
    {"--epochs 3", "epochs", 3},
    {"--batch-size 32", "batch_size", 32},
    {"--lr 0.25", "lr", 0.25},
    {"--momentum 0.5", "momentum", 0.5},
    {"--nesterov", "nesterov", true},
    {"--weight-decay 0.001", "weight_decay", 0.001},
    {"--lr-schedule cosine", "lr_schedule", "cosine"},
    {"--lr-decay-epochs 3,6", "lr_decay_epochs", {3, 6}},
    {"--lr-decay 0.5", "lr_decay", 0.5},
    {"--warmup-epochs 1.5", "warmup_epochs", 1.5},
    {"--lr-scaling linear", "lr_scaling", "linear"},
    {"--max-steps 7", "max_steps", 7},
    {"--eval-every 10", "eval_every", 10},
    {"--eval-batch-size 250", "eval_batch_size", 250},
    {"--eval-samples 50", "eval_samples", 50},
    {"--evaluations 12", "evaluations", 12},
    {"--target-accuracy 0.8", "target_accuracy", 0.8},
    {"--checkpoint-every 2", "checkpoint_every", 2},
    {"--log-dir /tmp/run", "log_dir", "/tmp/run"},
    {"--resume /tmp/run/a.ckpt", "resume", "/tmp/run/a.ckpt"},
    {"--stop-after-epoch 1", "stop_after_epoch", 1},
    {"--quiet", "quiet", true},
    {"--seed 9", "seed", 9},
    {"--threads 2", "threads", 2},
    {"--device cuda", "device", "cuda"},
    {"--timeout-s 9", "timeout_s", 9.0},
    {"--stall-warn-s 0", "stall_warn_s", 0.0},
    {"--nan-policy skip", "nan_policy", "skip"},
    {"--bucket-mb 4", "bucket_mb", 4.0},
    {"--image-size 32", "image_size", 32},
    {"--loader-threads 0", "loader_threads", 0},
    {"--bad-images skip", "bad_images", "skip"},
    {"--timeline /tmp/run/trace.json", "timeline", "/tmp/run/trace.json"},
    {"--init-from /tmp/model.pt", "init_from", "/tmp/model.pt"},
};

TEST(TrainFlags, EachFlagSetsItsOwnFieldAndNoOther) {
  const auto defaults = TrainConfig{}.to_json();
  for (const auto& c : kFlagCases) {
    SCOPED_TRACE(c.flags);
    const auto parsed = parse(c.flags).to_json();
    ASSERT_TRUE(parsed.contains(c.field));
    EXPECT_EQ(parsed.at(c.field), c.value);
    EXPECT_NE(defaults.at(c.field), c.value) << "the case must change the default";
    for (const auto& [key, value] : defaults.items()) {
      if (key != c.field) {
        EXPECT_EQ(parsed.at(key), value) << key << " changed too";
      }
    }
  }
}

TEST(TrainFlags, EveryConfigFieldHasAFlag) {
  std::set<std::string> covered;
  for (const auto& c : kFlagCases) covered.insert(c.field);
  const auto fields = TrainConfig{}.to_json();
  for (const auto& [key, value] : fields.items()) {
    EXPECT_TRUE(covered.count(key)) << "no flag case sets TrainConfig field '" << key << "'";
  }
}

TEST(TrainFlags, NoFlagsGiveTheDefaults) {
  EXPECT_EQ(parse("").to_json(), TrainConfig{}.to_json());
}

TEST(TrainFlags, OptionalFlagsStayUnsetUnlessGiven) {
  const auto config = parse("--lr 0.1");
  EXPECT_FALSE(config.max_staleness.has_value());
  EXPECT_FALSE(config.max_steps.has_value());
  EXPECT_FALSE(config.target_accuracy.has_value());
  EXPECT_FALSE(config.stop_after_epoch.has_value());
}

// A bad flag or value: CLI11's error, whose message names the flag.
void expect_parse_error_naming(const std::string& command_line, const std::string& flag) {
  SCOPED_TRACE(command_line);
  try {
    parse(command_line);
    ADD_FAILURE() << "no error";
  } catch (const CLI::ParseError& error) {
    EXPECT_NE(std::string(error.what()).find(flag), std::string::npos)
        << "expected '" << flag << "' in: " << error.what();
    EXPECT_NE(error.get_exit_code(), 0);
  }
}

TEST(TrainFlags, BadFlagsAndValuesAreParseErrorsNamingTheFlag) {
  expect_parse_error_naming("--no-such-flag", "--no-such-flag");
  expect_parse_error_naming("--nan-policy ignore", "--nan-policy");
  expect_parse_error_naming("--epochs many", "--epochs");
  expect_parse_error_naming("--lr", "--lr");
  expect_parse_error_naming("--lr-decay-epochs 3,x", "--lr-decay-epochs");
}

}  // namespace
}  // namespace distsgd::cli
