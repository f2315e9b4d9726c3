// distsgd train as a user runs it: real mpirun, real Fashion-MNIST.
#include <gtest/gtest.h>

#include <fstream>

#include "e2e_util.hpp"
#include "train/checkpoint.hpp"

namespace distsgd::testing {
namespace {

TEST(EndToEnd, CnnOneEpochOnTwoRanksReaches85Percent) {
  const auto dir = make_temp_dir("cnn");
  const auto run = run_distsgd(2, "train --algo allreduce --model cnn --dataset fashion-mnist --epochs 1 "
                                  "--batch-size 64 --lr 0.05 --momentum 0.9 --lr-schedule cosine --seed 1 --quiet "
                                  "--target-accuracy 0.8 --log-dir " + dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto summary = read_json(dir + "/summary.json");
  EXPECT_GE(summary.at("final_test_accuracy").get<double>(), 0.85);
  EXPECT_EQ(summary.at("nodes").get<int>(), 2);
  EXPECT_EQ(summary.at("workers").get<int>(), 2);
  EXPECT_EQ(summary.at("max_param_divergence").get<double>(), 0.0);
  EXPECT_EQ(summary.at("steps").get<int>(), 60000 / 2 / 64);
  EXPECT_FALSE(summary.at("time_to_target_s").is_null());
  for (const char* key : {"algo", "model", "dataset", "epochs", "wall_time_s", "train_time_s",
                          "eval_time_s", "samples_per_s", "final_test_loss", "best_test_accuracy",
                          "config", "versions"})
    EXPECT_TRUE(summary.contains(key)) << key;
  EXPECT_GT(summary.at("samples_per_s").get<double>(), 0.0);
  EXPECT_LE(summary.at("train_time_s").get<double>(), summary.at("wall_time_s").get<double>());
  // Every rank wrote its metrics, one line per step plus evaluations.
  for (int rank = 0; rank < 2; ++rank) {
    std::ifstream metrics(dir + "/metrics.rank" + std::to_string(rank) + ".jsonl");
    ASSERT_TRUE(metrics) << rank;
    int lines = 0;
    for (std::string line; std::getline(metrics, line);) ++lines;
    EXPECT_GE(lines, 468) << rank;
  }
  EXPECT_NE(run.output.find("summary.json"), std::string::npos) << run.output;
}

// A run stopped after epoch 1 and resumed from its checkpoint ends with exactly
// the parameters and accuracy of an uninterrupted 2-epoch run.
TEST(EndToEnd, ResumedRunMatchesUninterruptedRunExactly) {
  const std::string common =
      "train --model mlp --epochs 2 --batch-size 64 --lr 0.05 --momentum 0.9 --weight-decay 1e-4 "
      "--lr-decay-epochs 1 --lr-decay 0.5 --seed 3 --quiet ";
  const auto whole = make_temp_dir("whole");
  const auto parts = make_temp_dir("parts");
  auto run = run_distsgd(2, common + "--log-dir " + whole);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = run_distsgd(2, common + "--stop-after-epoch 1 --log-dir " + parts);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(read_json(parts + "/summary.json").at("stopped_early").get<bool>());
  run = run_distsgd(2, common + "--resume " + parts + "/checkpoint-epoch1.ckpt --log-dir " + parts);
  ASSERT_EQ(run.exit_code, 0) << run.output;

  const auto a = read_json(whole + "/summary.json");
  const auto b = read_json(parts + "/summary.json");
  EXPECT_EQ(a.at("steps"), b.at("steps"));
  EXPECT_EQ(a.at("final_test_accuracy"), b.at("final_test_accuracy"));
  EXPECT_EQ(a.at("final_test_loss"), b.at("final_test_loss"));
  // The final parameters, bit for bit.
  const auto params_a = read_checkpoint(whole + "/final.ckpt").tensors.at("params");
  const auto params_b = read_checkpoint(parts + "/final.ckpt").tensors.at("params");
  ASSERT_EQ(params_a.size(), 269322u);
  EXPECT_TRUE(params_a == params_b) << "final parameters differ";
}

}  // namespace
}  // namespace distsgd::testing
