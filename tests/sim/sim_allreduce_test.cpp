// Synchronous all-reduce on the virtual cluster: the rule (the mean gradient,
// one SGD step for all) and the step times the formulas say.
#include "sim/sim_allreduce.hpp"

#include <gtest/gtest.h>

#include "quadratic_source.hpp"
#include "sim/simulation.hpp"

namespace distsgd::sim {
namespace {

TEST(SimAllReduce, EveryStepIsSgdOnTheMeanGradientOfTheNodes) {
  const int nodes = 4;
  const int64_t numel = 5, steps = 6;
  auto settings = testing::settings_for("allreduce", nodes, numel, steps);
  testing::QuadraticSource source(numel);
  simulate(settings, &source, [](int64_t) { return 0.1; });

  auto x = source.initial_params();
  math::MomentumState momentum;
  std::vector<float> mean(numel);
  for (int64_t step = 0; step < steps; ++step) {
    std::fill(mean.begin(), mean.end(), 0.0f);
    for (int w = 0; w < nodes; ++w)
      for (int64_t i = 0; i < numel; ++i)
        mean[i] += x[i] - testing::QuadraticSource::target(w, step, i);
    math::scale(mean, 1.0f / nodes);
    math::sgd_step(x, mean, momentum, {0.9, 0.0, false}, 0.1);
  }
  ASSERT_EQ(source.last_evaluated.size(), x.size());
  for (int64_t i = 0; i < numel; ++i) EXPECT_FLOAT_EQ(source.last_evaluated[i], x[i]);
  EXPECT_EQ(source.calls, nodes * steps);
}

TEST(SimAllReduce, OneBucketWithoutOverlapCostsComputePlusTheRingFormula) {
  const int nodes = 8;
  const int64_t numel = 1 << 20;  // 4 MiB
  auto settings = testing::settings_for("allreduce", nodes, numel, 10, "bw=10Gbit,lat=50us");
  settings.overlap = false;
  const double bytes = 4.0 * numel, bw = 10e9 / 8, lat = 50e-6;
  const double ring = 2.0 * (nodes - 1) / nodes * bytes / bw + 2.0 * (nodes - 1) * lat;
  const auto outcome = simulate(settings, nullptr, [](int64_t) { return 0.1; });
  EXPECT_NEAR(outcome.summary.at("step_time_median_s").get<double>(), 0.01 + ring, 1e-9);
  EXPECT_NEAR(outcome.summary.at("train_time_s").get<double>(), 10 * (0.01 + ring), 1e-8);
}

TEST(SimAllReduce, OverlapHidesBucketsBehindTheBackwardPass) {
  std::vector<StepTime> nodes(4, StepTime{0.03, 0.0});
  SimSettings settings = testing::settings_for("allreduce", 4, 3000, 1, "bw=1Gbit,lat=0us");
  settings.bucket_numels = {1000, 1000, 1000};
  const double each = 2.0 * 3 / 4 * 4000.0 / (1e9 / 8);
  settings.overlap = false;
  EXPECT_NEAR(allreduce_step_end(settings, 0.0, nodes), 0.03 + 3 * each, 1e-12);
  // Backward is the last 2/3 of the compute: the buckets are ready at 1/3, 2/3
  // and all of it, so only the last bucket's all-reduce is exposed.
  settings.overlap = true;
  EXPECT_NEAR(allreduce_step_end(settings, 0.0, nodes), 0.03 + each, 1e-12);
}

TEST(SimAllReduce, TheSlowestNodeSetsThePaceAndTheOthersWait) {
  auto settings = testing::settings_for("allreduce", 3, 10, 4);
  settings.config.straggler = "2:3";
  const auto outcome = simulate(settings, nullptr, [](int64_t) { return 0.1; });
  EXPECT_NEAR(outcome.summary.at("train_time_s").get<double>(), 4 * 0.03, 1e-12);
  const auto waits = outcome.summary.at("breakdown").at("wait_s");
  EXPECT_NEAR(waits[0].get<double>(), 4 * 0.02, 1e-12);
  EXPECT_NEAR(waits[2].get<double>(), 0.0, 1e-12);
}

}  // namespace
}  // namespace distsgd::sim

namespace distsgd::sim {
namespace {

TEST(Simulation, EvaluatesEveryEvalEveryStepsAndCanStopAtTheTarget) {
  auto settings = testing::settings_for("allreduce", 2, 4, 200);
  settings.config.eval_every = 5;
  testing::QuadraticSource source(4);
  const auto full = simulate(settings, &source, [](int64_t) { return 0.1; });
  EXPECT_EQ(full.evaluations.size(), 200u / 5u);  // 39 on the way and the final one
  settings.config.target_accuracy = 0.7;
  settings.stop_at_target = true;
  testing::QuadraticSource again(4);
  const auto stopped = simulate(settings, &again, [](int64_t) { return 0.1; });
  const auto& s = stopped.summary;
  ASSERT_TRUE(s.at("stopped_at_target").get<bool>());
  EXPECT_LT(s.at("steps").get<int64_t>(), 200);
  EXPECT_EQ(s.at("steps").get<int64_t>() % 5, 0);
  EXPECT_DOUBLE_EQ(s.at("time_to_target_s").get<double>(), s.at("train_time_s").get<double>());
  EXPECT_GE(s.at("final_test_accuracy").get<double>(), 0.7);
  // Throughput counts the samples trained before the stop.
  EXPECT_NEAR(s.at("samples_per_s").get<double>(),
              full.summary.at("samples_per_s").get<double>(), 1e-6);
}

}  // namespace
}  // namespace distsgd::sim
