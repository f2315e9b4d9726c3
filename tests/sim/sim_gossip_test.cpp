// Gossip on the virtual cluster: push-sum conserves its weight exactly, and a
// run is the same for the same seed.
#include "sim/sim_gossip.hpp"

#include <gtest/gtest.h>

#include "quadratic_source.hpp"
#include "sim/simulation.hpp"

namespace distsgd::sim {
namespace {

TEST(SimGossip, PushSumWeightIsConservedAtEveryMoment) {
  auto settings = testing::settings_for("gossip-push", 8, 16, 40, "bw=1Gbit,lat=20us");
  settings.compute.jitter_sigma = 0.5;  // uneven pace: pushes cross and get skipped
  testing::QuadraticSource source(16);
  Cluster cluster(settings, &source, [](int64_t) { return 0.05; });
  SimGossip gossip(cluster, gossip::Mode::push_sum);
  gossip.start();
  int checks = 0;
  std::function<void()> check = [&] {
    EXPECT_EQ(gossip.total_weight(), 8.0) << "at " << cluster.now() << " s";
    ++checks;
    if (cluster.now() < 0.3) cluster.events().after(0.0037, check);
  };
  cluster.events().at(0.0, check);
  cluster.events().run_all();
  EXPECT_GT(checks, 50);
  gossip.evaluation_target();  // takes in what is left in the inboxes
  double nodes_only = 0.0;
  for (int i = 0; i < 8; ++i) nodes_only += gossip.node_weight(i);
  EXPECT_EQ(nodes_only, 8.0);
  EXPECT_GT(gossip.summary().at("pushes_sent").get<int64_t>(), 8 * 30);
}

TEST(SimGossip, PullMixingBringsTheReplicasTogether) {
  auto settings = testing::settings_for("gossip-pull", 8, 32, 30);
  settings.config.momentum = 0.0;
  testing::QuadraticSource source(32);
  const auto mixed = simulate(settings, &source, [](int64_t) { return 0.05; });
  settings.config.tau = 1000;  // no round at all in 30 steps
  const auto alone = simulate(settings, &source, [](int64_t) { return 0.05; });
  const double d_mixed = mixed.summary.at("consensus_distance").get<double>();
  const double d_alone = alone.summary.at("consensus_distance").get<double>();
  EXPECT_GT(d_alone, 0.0);
  EXPECT_LT(d_mixed, 0.5 * d_alone);
}

TEST(SimGossip, TheSameSeedGivesTheSameSummaryBitForBit) {
  for (const char* algo : {"gossip-push", "gossip-pull", "asgd", "allreduce"}) {
    auto settings = testing::settings_for(algo, 6, 64, 25, "25gbe");
    settings.compute.jitter_sigma = 0.4;
    settings.steps_per_epoch = 5;
    testing::QuadraticSource a(64), b(64);
    auto first = simulate(settings, &a, [](int64_t) { return 0.05; }).summary;
    auto second = simulate(settings, &b, [](int64_t) { return 0.05; }).summary;
    first.erase("simulator");
    second.erase("simulator");
    EXPECT_EQ(first.dump(), second.dump()) << algo;
    EXPECT_EQ(a.last_evaluated, b.last_evaluated) << algo;
    settings.config.seed = 2;
    testing::QuadraticSource c(64);
    auto other = simulate(settings, &c, [](int64_t) { return 0.05; }).summary;
    other.erase("simulator");
    EXPECT_NE(first.dump(), other.dump()) << algo << ": the seed changes the jitter";
  }
}

}  // namespace
}  // namespace distsgd::sim

namespace distsgd::sim {
namespace {

TEST(SimGossip, TimingOnlyHoldsNoEvaluationMeetings) {
  // One step per epoch: with evaluations every node would meet every step and
  // a straggler would hold everyone; timing only, nobody waits for it.
  auto settings = testing::settings_for("gossip-push", 8, 1000, 20);
  settings.steps_per_epoch = 1;
  settings.config.straggler = "3:5";
  const auto outcome = simulate(settings, nullptr, [](int64_t) { return 0.05; });
  const auto waits = outcome.summary.at("breakdown").at("wait_s");
  for (const auto& wait : waits) EXPECT_EQ(wait.get<double>(), 0.0);
  EXPECT_NEAR(outcome.summary.at("worker_step_time_median_s")[0].get<double>(), 0.01, 1e-12);
}

}  // namespace
}  // namespace distsgd::sim
