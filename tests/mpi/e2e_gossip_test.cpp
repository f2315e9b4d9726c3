// Gossiping SGD as a user runs it: real mpirun jobs of the distsgd command on
// Fashion-MNIST, every rank a worker, no server.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "e2e_summary.hpp"

namespace distsgd::testing {
namespace {

const std::string kShort = "train --model cnn --epochs 1 --eval-samples 500 ";

TEST(Gossip, CnnOneEpochFourRanksReaches85PercentOnTheAveragedModel) {
  for (const char* algo : {"gossip-pull", "gossip-push"}) {
    const auto summary = run_ok(
        4, fmt::format("train --algo {} --model cnn --epochs 1 --batch-size 32", algo), algo, 600);
    ASSERT_FALSE(summary.empty());
    EXPECT_GE(summary.at("final_test_accuracy").get<double>(), 0.85) << summary.dump();
    EXPECT_GE(summary.at("final_local_test_accuracy").get<double>(), 0.75) << summary.dump();
    EXPECT_EQ(summary.at("workers"), 4);
    EXPECT_EQ(summary.at("servers"), 0);
    // Replicas are close but not identical: no global averaging ever happened.
    EXPECT_LT(summary.at("consensus_distance").get<double>(), 0.05);
    EXPECT_GT(summary.at("max_param_divergence").get<double>(), 0.0);
    EXPECT_GT(summary.at("method").at("bytes_sent_per_step").get<double>(), 0.0);
  }
}

TEST(Gossip, UnevenStepCountsEndCleanlyWithTheWeightConserved) {
  // Rank 1 leaves after 5 steps; the others train for longer than the 3 s
  // deadline, which the finished node must survive while it keeps serving.
  // However fast the machine: every step sleeps 25 ms (--straggler-random
  // with probability 1), so the 195 steps after rank 1 has left take at least
  // 4.8 s.
  const auto push = run_ok(4,
                           kShort +
                               "--algo gossip-push --max-steps 200 --leave-early 1:5 --timeout-s 3 "
                               "--straggler-random 1:25",
                           "push-leave");
  ASSERT_FALSE(push.empty());
  EXPECT_EQ(push.at("worker_steps"), nlohmann::json({200, 5, 200, 200}));
  const auto& injected = push.at("straggler").at("injected_s_per_worker");
  for (int rank : {0, 2, 3}) EXPECT_NEAR(injected[rank].get<double>(), 200 * 0.025, 1e-6);
  EXPECT_NEAR(injected[1].get<double>(), 5 * 0.025, 1e-6);
  EXPECT_GT(push.at("train_time_s").get<double>(), 200 * 0.025);
  EXPECT_NEAR(push.at("method").at("push_sum_total_weight").get<double>(), 4.0, 1e-9);
  // Every push was taken in by its receiver.
  EXPECT_GT(push.at("method").at("pushes_received").get<double>(), 0.0);
  // Rank 0 leaving first, pulling on a ring.
  const auto pull =
      run_ok(3, kShort + "--algo gossip-pull --topology ring --max-steps 40 --leave-early 0:3",
             "pull-leave");
  ASSERT_FALSE(pull.empty());
  EXPECT_EQ(pull.at("worker_steps"), nlohmann::json({3, 40, 40}));
}

TEST(Gossip, TopologiesPushModesAndMomentumMixingRun) {
  const auto exponential = run_ok(4,
                                  kShort +
                                      "--algo gossip-push --topology exponential --gossip-peers 2 "
                                      "--max-steps 20 --gossip-momentum",
                                  "exp");
  ASSERT_FALSE(exponential.empty());
  EXPECT_EQ(exponential.at("method").at("topology"), "exponential");
  EXPECT_EQ(exponential.at("method").at("gossip_momentum"), true);
  EXPECT_NEAR(exponential.at("method").at("push_sum_total_weight").get<double>(), 4.0, 1e-9);
  // 20 rounds x 2 peers per node, each carrying parameters and momentum; a
  // push to a peer still busy with the previous one is skipped (how many
  // depends on the machine's load), and every push sent is received.
  const auto& figures = exponential.at("method");
  EXPECT_EQ(figures.at("pushes_sent").get<double>() + figures.at("pushes_skipped").get<double>(),
            160.0);
  EXPECT_EQ(figures.at("pushes_received"), figures.at("pushes_sent"));
  EXPECT_GT(figures.at("pushes_sent").get<double>(), 80.0);
  const auto average =
      run_ok(3, kShort + "--algo gossip-push --push-mode average --max-steps 20", "avg");
  ASSERT_FALSE(average.empty());
  EXPECT_EQ(average.at("method").at("push_mode"), "average");
  EXPECT_FALSE(average.at("method").contains("push_sum_total_weight"));
  const auto pull = run_ok(2, kShort + "--algo gossip-pull --tau 2 --max-steps 20", "tau");
  ASSERT_FALSE(pull.empty());
  EXPECT_EQ(pull.at("method").at("rounds_rank0"), 10);
  EXPECT_EQ(pull.at("method").at("pulls_served"), 20.0);  // 10 rounds x 2 nodes
  EXPECT_TRUE(std::isfinite(pull.at("consensus_distance").get<double>()));
}

}  // namespace
}  // namespace distsgd::testing
