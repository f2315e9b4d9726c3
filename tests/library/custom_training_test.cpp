// The trainer with a program's model and data (RunInputs from a Problem), on
// one in-process rank: it learns, the run's files name the problem's model and
// data set, and a run stopped after an epoch resumes from its checkpoint.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "comm/in_process.hpp"
#include "core/errors.hpp"
#include "library/library_test_util.hpp"
#include "library/problem_inputs.hpp"
#include "library/summary.hpp"
#include "temp_dir.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

namespace distsgd::library {
namespace {

TrainConfig small_config(const std::string& log_dir, const Problem& problem) {
  TrainConfig config;
  config.model = problem.model_name;  // as Session::train sets them
  config.dataset = problem.dataset_name;
  config.epochs = 2;
  config.batch_size = 16;
  config.lr = 0.05;
  config.quiet = true;
  config.log_dir = log_dir;
  return config;
}

Summary run(const TrainConfig& config, const Problem& problem) {
  auto group = comm::make_in_process_group(1);
  return summary_of(train(config, group[0], inputs_for(problem)));
}

TEST(CustomTraining, TheProgramsModelLearnsTheProgramsData) {
  testing::TempDir dir;
  const auto problem = testing::sign_problem();
  const auto summary = run(small_config(dir.str(), problem), problem);
  EXPECT_TRUE(summary.worker);
  EXPECT_GE(summary.final_test_accuracy, 0.95);
  EXPECT_EQ(summary.steps, 2 * 256 / 16);
  EXPECT_DOUBLE_EQ(summary.epochs, 2.0);
  EXPECT_GT(summary.samples_per_s, 0.0);
  const auto json = nlohmann::json::parse(summary.json);
  EXPECT_EQ(json.at("model"), "custom");
  EXPECT_EQ(json.at("dataset"), "custom");
  EXPECT_DOUBLE_EQ(json.at("final_test_accuracy").get<double>(), summary.final_test_accuracy);
  // summary.json and final.ckpt, as for a model of distsgd's own.
  EXPECT_EQ(nlohmann::json::parse(testing::read_all(dir.file("summary.json"))), json);
  EXPECT_TRUE(std::filesystem::exists(dir.file("final.ckpt")));
}

TEST(CustomTraining, ARunStoppedAfterAnEpochResumesFromItsCheckpoint) {
  testing::TempDir dir;
  const auto problem = testing::sign_problem();
  auto config = small_config(dir.str(), problem);
  config.stop_after_epoch = 1;
  const auto first = run(config, problem);
  EXPECT_EQ(first.steps, 256 / 16);
  const auto checkpoint = newest_good_checkpoint_in(dir.str());
  ASSERT_TRUE(checkpoint.has_value());

  config.stop_after_epoch.reset();
  config.resume = *checkpoint;
  const auto resumed = run(config, problem);
  EXPECT_EQ(resumed.steps, 2 * 256 / 16);
  EXPECT_GE(resumed.final_test_accuracy, 0.95);

  // Resuming it as another model is refused, naming what differs.
  auto other = config;
  other.model = "other-model";
  try {
    run(other, problem);
    FAIL() << "resumed a checkpoint of another model";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("the checkpoint was made with --model \"custom\", this run has "
                        "\"other-model\""),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace distsgd::library
