#include "sim/compute_model.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace distsgd::sim {
namespace {

TEST(ComputeModel, WithoutJitterEveryStepTakesTheGivenTime) {
  TrainConfig config;
  ComputeModel model({0.02, 0.0, true}, config, 4);
  EXPECT_DOUBLE_EQ(model.step(3, 17).compute_s, 0.02);
  EXPECT_DOUBLE_EQ(model.step(3, 17).delay_s, 0.0);
}

TEST(ComputeModel, AStragglerIsSlowedByItsFactorAsInTheEngine) {
  TrainConfig config;
  config.straggler = "1:4";
  ComputeModel model({0.01, 0.0, true}, config, 3);
  EXPECT_DOUBLE_EQ(model.step(1, 5).total(), 0.04);
  EXPECT_DOUBLE_EQ(model.step(0, 5).total(), 0.01);
  ComputeModel off({0.01, 0.0, false}, config, 3);
  EXPECT_DOUBLE_EQ(off.step(1, 5).total(), 0.01);
}

TEST(ComputeModel, JitterIsLognormalWithMeanOneAndDeterministic) {
  TrainConfig config;
  ComputeModel model({1.0, 0.3, true}, config, 2);
  double sum = 0.0, log_sum = 0.0, log_sq = 0.0;
  const int n = 20000;
  for (int step = 0; step < n; ++step) {
    const double t = model.step(1, step).compute_s;
    sum += t;
    log_sum += std::log(t);
    log_sq += std::log(t) * std::log(t);
  }
  EXPECT_NEAR(sum / n, 1.0, 0.01);
  const double log_mean = log_sum / n;
  EXPECT_NEAR(std::sqrt(log_sq / n - log_mean * log_mean), 0.3, 0.01);
  EXPECT_EQ(model.step(1, 42).compute_s, model.step(1, 42).compute_s);
  EXPECT_NE(model.step(0, 42).compute_s, model.step(1, 42).compute_s);
}

}  // namespace
}  // namespace distsgd::sim
