// The hybrids on the virtual cluster: local SGD is the formula (one local
// step without momentum is synchronous SGD), its time is the nodes' compute
// plus one all-reduce of the model per average; post-local SGD starts
// synchronous; gossip-pga's global averages leave no distance between the
// replicas.
#include "sim/sim_local_sgd.hpp"

#include <gtest/gtest.h>

#include "quadratic_source.hpp"
#include "sim/collective_cost.hpp"
#include "sim/simulation.hpp"

namespace distsgd::sim {
namespace {

SimSettings local_settings(int nodes, int64_t numel, int64_t steps, int local_steps,
                           const std::string& network = "free") {
  auto settings = testing::settings_for("local-sgd", nodes, numel, steps, network);
  settings.config.local_steps = local_steps;
  settings.config.checkpoint_every = 0;
  return settings;
}

TEST(SimLocalSgd, OneLocalStepWithoutMomentumIsSynchronousSgd) {
  auto local = local_settings(4, 6, 8, 1);
  local.config.momentum = 0.0;
  auto sync = local;
  sync.config.algo = "allreduce";
  testing::QuadraticSource a(6), b(6);
  simulate(local, &a, [](int64_t) { return 0.1; });
  simulate(sync, &b, [](int64_t) { return 0.1; });
  ASSERT_EQ(a.last_evaluated.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR(a.last_evaluated[i], b.last_evaluated[i], 1e-6);
}

TEST(SimLocalSgd, EveryNodeStepsAloneAndTheModelsAreAveragedEveryLocalSteps) {
  const int nodes = 3, local_steps = 4;
  const int64_t numel = 5, steps = 12;
  auto settings = local_settings(nodes, numel, steps, local_steps);
  testing::QuadraticSource source(numel);
  Cluster real(settings, &source, [](int64_t) { return 0.1; });
  SimLocalSgd method(real);
  method.start();
  real.events().run_all();

  // By hand: each node's own SGD with momentum 0.9, the mean every 4 steps.
  std::vector<std::vector<float>> x(nodes, source.initial_params());
  std::vector<math::MomentumState> momentum(nodes);
  for (int64_t step = 0; step < steps; ++step) {
    for (int w = 0; w < nodes; ++w) {
      std::vector<float> g(numel);
      for (int64_t i = 0; i < numel; ++i)
        g[i] = x[w][i] - testing::QuadraticSource::target(w, step, i);
      math::sgd_step(x[w], g, momentum[w], {0.9, 0.0, false}, 0.1);
    }
    if ((step + 1) % local_steps == 0) {
      std::vector<float> mean(numel, 0.0f);
      for (int w = 0; w < nodes; ++w)
        for (int64_t i = 0; i < numel; ++i) mean[i] += x[w][i];
      math::scale(mean, 1.0f / nodes);
      for (auto& replica : x) replica = mean;
    }
  }
  for (int w = 0; w < nodes; ++w)
    for (int64_t i = 0; i < numel; ++i) EXPECT_FLOAT_EQ(method.params(w)[i], x[w][i]);
  EXPECT_EQ(method.summary().at("model_averages").get<int64_t>(), steps / local_steps);
}

TEST(SimLocalSgd, TimeIsComputePlusOneAllReduceOfTheModelPerAverage) {
  const int nodes = 8, local_steps = 4;
  const int64_t numel = 1 << 20, steps = 16;
  auto settings = local_settings(nodes, numel, steps, local_steps, "bw=10Gbit,lat=50us");
  const double average = allreduce_s(settings.allreduce, nodes, 4.0 * numel, settings.network);
  const auto outcome = simulate(settings, nullptr, [](int64_t) { return 0.1; });
  // The run's time ends with its last step: the average after it is the
  // end of the run's (the engine's finish() averages too).
  EXPECT_NEAR(outcome.summary.at("train_time_s").get<double>(),
              steps * 0.01 + (steps / local_steps - 1) * average, 1e-9);
  // Synchronous SGD pays an all-reduce every step.
  settings.config.algo = "allreduce";
  settings.overlap = false;
  const auto sync = simulate(settings, nullptr, [](int64_t) { return 0.1; });
  EXPECT_NEAR(sync.summary.at("train_time_s").get<double>(), steps * (0.01 + average), 1e-9);
}

TEST(SimLocalSgd, AStragglerHoldsTheOthersOnlyAtTheAverages) {
  auto settings = local_settings(3, 10, 8, 4);
  settings.config.straggler = "2:3";  // 0.03 s a step instead of 0.01
  const auto outcome = simulate(settings, nullptr, [](int64_t) { return 0.1; });
  // The others wait for the straggler at the average after step 4 (and at
  // the last one, after the timed run).
  EXPECT_NEAR(outcome.summary.at("train_time_s").get<double>(), 8 * 0.03, 1e-12);
  EXPECT_NEAR(outcome.summary.at("breakdown").at("wait_s")[0].get<double>(), 8 * 0.02, 1e-12);
}

TEST(SimLocalSgd, PostLocalSgdIsSynchronousForItsFirstEpochs) {
  auto settings = local_settings(4, 8, 30, 5);
  settings.steps_per_epoch = 10;  // 3 epochs
  settings.config.post_local_after = 2;
  testing::QuadraticSource source(8);
  const auto outcome = simulate(settings, &source, [](int64_t) { return 0.1; });
  const auto& figures = outcome.summary.at("method");
  EXPECT_EQ(figures.at("synchronous_steps").get<int64_t>(), 20);
  EXPECT_EQ(figures.at("model_averages").get<int64_t>(), 2);
  // Evaluations at the ends of epochs 1 and 2 come after synchronous steps:
  // the replicas are identical there.
  const auto history = figures.at("consensus_history");
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history[0].get<double>(), 0.0);
  EXPECT_EQ(history[1].get<double>(), 0.0);
}

TEST(SimGossipPga, EveryGlobalAverageLeavesTheReplicasIdentical) {
  for (const char* mode : {"pull", "push"}) {
    auto settings = testing::settings_for("gossip-pga", 8, 16, 40, "bw=1Gbit,lat=20us");
    settings.config.gossip_mode = mode;
    settings.config.global_every = 5;
    settings.steps_per_epoch = 10;  // an evaluation right after every other global average
    settings.compute.jitter_sigma = 0.5;
    testing::QuadraticSource source(16);
    const auto outcome = simulate(settings, &source, [](int64_t) { return 0.05; });
    const auto& figures = outcome.summary.at("method");
    EXPECT_EQ(figures.at("global_averages").get<int64_t>(), 8) << mode;
    for (const auto& distance : figures.at("consensus_history"))
      EXPECT_LT(distance.get<double>(), 1e-12) << mode;  // the mean of identical floats, rounded
    if (std::string(mode) == "push") EXPECT_EQ(figures.at("total_weight").get<double>(), 8.0);
    // Plain gossip leaves them apart at the same moments.
    settings.config.algo = mode == std::string("pull") ? "gossip-pull" : "gossip-push";
    testing::QuadraticSource plain(16);
    const auto gossip = simulate(settings, &plain, [](int64_t) { return 0.05; });
    EXPECT_GT(gossip.summary.at("method").at("consensus_history")[0].get<double>(), 1e-6) << mode;
  }
}

}  // namespace
}  // namespace distsgd::sim
