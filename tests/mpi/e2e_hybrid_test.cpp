// The hybrids as a user runs them: real mpirun jobs of the distsgd command on
// Fashion-MNIST (local SGD and gossip with periodic global averaging).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "e2e_summary.hpp"

namespace distsgd::testing {
namespace {

TEST(Hybrids, CnnOneEpochFourRanksReaches85Percent) {
  const auto local = run_ok(
      4, "train --algo local-sgd --local-steps 4 --model cnn --epochs 1 --batch-size 32",
      "local-sgd", 600);
  ASSERT_FALSE(local.empty());
  EXPECT_GE(local.at("final_test_accuracy").get<double>(), 0.85) << local.dump();
  const int64_t steps = 60000 / 4 / 32;
  EXPECT_EQ(local.at("steps"), steps);
  // One average every 4 steps, the checkpoint's and the end's.
  EXPECT_EQ(local.at("method").at("model_averages"), steps / 4 + 2);
  EXPECT_EQ(local.at("method").at("synchronous_steps"), 0);
  // The run ends with one model.
  EXPECT_EQ(local.at("max_param_divergence").get<double>(), 0.0);

  // Gossip's runs differ with the order of events: the final accuracy of six
  // runs of these flags ranged 0.8455-0.8742 (2026-12-02). The test asks for
  // 85% at one of the epoch's four evaluations, and no collapse at its end.
  const auto pga = run_ok(4,
                          "train --algo gossip-pga --global-every 8 --model cnn --epochs 1 "
                          "--batch-size 32 --eval-every 117",
                          "gossip-pga", 600);
  ASSERT_FALSE(pga.empty());
  EXPECT_GE(pga.at("best_test_accuracy").get<double>(), 0.85) << pga.dump();
  EXPECT_GE(pga.at("final_test_accuracy").get<double>(), 0.83) << pga.dump();
  EXPECT_EQ(pga.at("method").at("global_averages_rank0"), steps / 8);
  EXPECT_GT(pga.at("method").at("pulls_served").get<double>(), 0.0);
}

TEST(Hybrids, PostLocalSgdAndPushSumPgaRun) {
  const std::string mlp = "train --model mlp --epochs 2 --batch-size 64 --eval-samples 2000 ";
  const auto post = run_ok(3, mlp + "--algo local-sgd --local-steps 8 --post-local-after 1 "
                                    "--average-momentum",
                           "post-local");
  ASSERT_FALSE(post.empty());
  const int64_t per_epoch = 60000 / 3 / 64;
  EXPECT_EQ(post.at("method").at("synchronous_steps"), per_epoch);
  EXPECT_EQ(post.at("method").at("local_steps_taken"), per_epoch);
  EXPECT_GT(post.at("method").at("allreduce_exposed_s").get<double>(), 0.0);
  EXPECT_GE(post.at("final_test_accuracy").get<double>(), 0.8);

  const auto push = run_ok(3, mlp + "--algo gossip-pga --gossip-mode push --global-every 5",
                           "pga-push");
  ASSERT_FALSE(push.empty());
  EXPECT_EQ(push.at("method").at("global_averages_rank0"), 2 * per_epoch / 5);
  EXPECT_EQ(push.at("method").at("push_sum_total_weight").get<double>(), 3.0);
  EXPECT_GT(push.at("method").at("pushes_sent").get<double>(), 0.0);
  EXPECT_GE(push.at("final_test_accuracy").get<double>(), 0.8);
}

TEST(Hybrids, ImpossibleSettingsAreRefusedByName) {
  for (const auto& [flags, message] : std::vector<std::pair<std::string, std::string>>{
           {"--algo local-sgd --local-steps 0", "--local-steps must be at least 1"},
           {"--algo gossip-pga --global-every 0", "--global-every must be at least 1"},
           {"--algo gossip-pga --gossip-mode shout", "--gossip-mode must be pull or push"},
           {"--algo local-sgd --leave-early 1:5", "--leave-early needs an asynchronous method"}}) {
    const auto run = run_distsgd(2, "train --model mlp --max-steps 2 --quiet " + flags, 120);
    EXPECT_NE(run.exit_code, 0) << flags;
    EXPECT_NE(run.output.find(message), std::string::npos) << flags << ": " << run.output;
  }
}

}  // namespace
}  // namespace distsgd::testing
