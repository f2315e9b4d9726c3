// ASGD and EASGD on the virtual cluster, run by the engine's own cores.
#include "sim/sim_parameter_server.hpp"

#include <gtest/gtest.h>

#include "quadratic_source.hpp"
#include "sim/simulation.hpp"

namespace distsgd::sim {
namespace {

double constant_lr(int64_t) { return 0.1; }

TEST(SimParameterServer, AsgdWithOneWorkerIsPlainSgd) {
  const int64_t numel = 7, steps = 9;
  auto settings = testing::settings_for("asgd", 2, numel, steps, "10gbe");
  testing::QuadraticSource source(numel);
  simulate(settings, &source, constant_lr);
  auto x = source.initial_params();
  math::MomentumState momentum;
  std::vector<float> g(numel);
  for (int64_t step = 0; step < steps; ++step) {
    for (int64_t i = 0; i < numel; ++i) g[i] = x[i] - testing::QuadraticSource::target(0, step, i);
    math::sgd_step(x, g, momentum, {0.9, 0.0, false}, 0.1);
  }
  for (int64_t i = 0; i < numel; ++i) EXPECT_NEAR(source.last_evaluated[i], x[i], 1e-6);
}

TEST(SimParameterServer, EasgdWithOneWorkerIsLocalSgdPlusTheElasticMove) {
  const int64_t numel = 4, steps = 6;
  auto settings = testing::settings_for("easgd", 2, numel, steps);
  settings.config.tau = 2;
  testing::QuadraticSource source(numel);
  simulate(settings, &source, constant_lr);
  auto x = source.initial_params(), centre = x;
  math::MomentumState momentum;
  std::vector<float> g(numel);
  for (int64_t step = 0; step < steps; ++step) {
    for (int64_t i = 0; i < numel; ++i) g[i] = x[i] - testing::QuadraticSource::target(0, step, i);
    math::sgd_step(x, g, momentum, {0.9, 0.0, false}, 0.1);
    if ((step + 1) % 2 == 0) math::elastic_exchange(x, centre, 0.9f);
  }
  for (int64_t i = 0; i < numel; ++i) EXPECT_FLOAT_EQ(source.last_evaluated[i], centre[i]);
}

TEST(SimParameterServer, StalenessComesOutOfTheOrderOfArrivals) {
  // Four workers push at the same moments; the server takes them in turn, so
  // after the first round each update is three versions old.
  auto settings = testing::settings_for("asgd", 5, 100, 20);
  const auto outcome = simulate(settings, nullptr, constant_lr);
  EXPECT_EQ(outcome.summary.at("staleness_max").get<double>(), 3.0);
  EXPECT_GT(outcome.summary.at("staleness_mean").get<double>(), 2.5);
  EXPECT_EQ(outcome.summary.at("method").at("server_updates").get<double>(), 80.0);
}

// The simulator's servers are ps::ServerCore, so they run the same rule; its
// summary says which, and with which momentum.
TEST(SimParameterServer, AsgdSummaryRecordsTheRuleAndTheServersMomentum) {
  auto settings = testing::settings_for("asgd", 5, 10, 4);  // 4 workers, momentum 0.9
  const auto remedy = simulate(settings, nullptr, constant_lr).summary.at("method");
  EXPECT_EQ(remedy.at("asgd_rule"), "momentum");
  EXPECT_DOUBLE_EQ(remedy.at("asgd_explicit_momentum").get<double>(), 0.15);
  settings.config.asgd_rule = "plain";
  const auto plain = simulate(settings, nullptr, constant_lr).summary.at("method");
  EXPECT_EQ(plain.at("asgd_rule"), "plain");
  EXPECT_DOUBLE_EQ(plain.at("asgd_explicit_momentum").get<double>(), 0.9);
}

// Two workers pushing in turn on a closed-form loss: the remedy's servers end
// elsewhere than plain Downpour's (the rule reaches the simulated servers).
TEST(SimParameterServer, TheRuleChangesWhereTheSimulatedServersGo) {
  const int64_t numel = 5, steps = 12;
  auto settings = testing::settings_for("asgd", 4, numel, steps);
  testing::QuadraticSource remedy_source(numel), plain_source(numel);
  simulate(settings, &remedy_source, constant_lr);
  settings.config.asgd_rule = "plain";
  simulate(settings, &plain_source, constant_lr);
  EXPECT_GT(math::max_abs_difference(remedy_source.last_evaluated, plain_source.last_evaluated),
            1e-3f);
}

TEST(SimParameterServer, RequestsConvergingOnAServerWaitOnItsLink) {
  auto settings = testing::settings_for("asgd", 9, 1 << 20, 5, "bw=10Gbit,lat=0us");
  const auto queued = simulate(settings, nullptr, constant_lr).summary;
  settings.link_queues = false;
  const auto free_links = simulate(settings, nullptr, constant_lr).summary;
  const double one_way = 4.0 * (1 << 20) / (10e9 / 8);
  const double unqueued = free_links.at("method").at("worker_exchange_mean_s").get<double>();
  EXPECT_NEAR(unqueued, 2 * one_way, 0.01 * one_way);
  // Eight pushes of one transfer each share the server's incoming link (the
  // first round: 2 to 9 transfers; later rounds are staggered by it).
  EXPECT_GT(queued.at("method").at("worker_exchange_mean_s").get<double>(), 2 * unqueued);
}

TEST(SimParameterServer, MaxStalenessHoldsTheFastAndTheRunStillEnds) {
  auto settings = testing::settings_for("asgd", 4, 50, 30);
  settings.config.straggler = "0:10";
  settings.config.max_staleness = 2;
  const auto bounded = simulate(settings, nullptr, constant_lr).summary;
  EXPECT_LE(bounded.at("method").at("max_lead").get<double>(), 2.0);
  EXPECT_GT(bounded.at("method").at("held_replies").get<double>(), 0.0);
  settings.config.max_staleness.reset();
  const auto free_run = simulate(settings, nullptr, constant_lr).summary;
  EXPECT_GT(free_run.at("method").at("max_lead").get<double>(), 10.0);
}

}  // namespace
}  // namespace distsgd::sim
