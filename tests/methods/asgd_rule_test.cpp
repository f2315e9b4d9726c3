// ASGD's step rule (--asgd-rule): the formulas, and the server core applying
// them to the gradients it receives.
#include "methods/asgd_rule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/errors.hpp"
#include "methods/ps_server_core.hpp"
#include "methods/ps_worker_core.hpp"
#include "methods/update_math.hpp"

namespace distsgd::ps {
namespace {

TEST(AsgdRule, StalenessScaledLrIsLrOverMaxOfOneAndStaleness) {
  EXPECT_EQ(staleness_scaled_lr(0.05, 0), 0.05);  // the current version: the full step
  EXPECT_EQ(staleness_scaled_lr(0.05, 1), 0.05);
  EXPECT_EQ(staleness_scaled_lr(0.05, 2), 0.025);
  EXPECT_EQ(staleness_scaled_lr(0.05, 3), 0.05 / 3.0);
  EXPECT_EQ(staleness_scaled_lr(0.3, 7), 0.3 / 7.0);
  EXPECT_EQ(staleness_scaled_lr(0.1, 40), 0.1 / 40.0);
}

TEST(AsgdRule, CompensatedMomentumSubtractsTheImplicitMomentumOfTheWorkers) {
  EXPECT_EQ(compensated_momentum(0.9, 1), 0.9);  // one worker: no asynchrony
  EXPECT_DOUBLE_EQ(compensated_momentum(0.9, 2), 0.4);
  EXPECT_DOUBLE_EQ(compensated_momentum(0.9, 3), 0.9 - 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(compensated_momentum(0.9, 4), 0.15);
  EXPECT_DOUBLE_EQ(compensated_momentum(0.99, 10), 0.09);
  // Asynchrony alone gives more than was asked for: no explicit momentum.
  EXPECT_EQ(compensated_momentum(0.5, 2), 0.0);
  EXPECT_EQ(compensated_momentum(0.5, 4), 0.0);
  EXPECT_EQ(compensated_momentum(0.0, 3), 0.0);
  EXPECT_THROW(compensated_momentum(0.9, 0), std::invalid_argument);
}

TEST(AsgdRule, EachRuleScalesWhatItSaysAndPlainNothing) {
  for (const int64_t staleness : {0, 1, 2, 5, 31}) {
    EXPECT_EQ(asgd_step_lr(AsgdRule::plain, 0.05, staleness), 0.05);
    EXPECT_EQ(asgd_step_lr(AsgdRule::momentum, 0.05, staleness), 0.05);
    EXPECT_EQ(asgd_step_lr(AsgdRule::staleness, 0.05, staleness),
              staleness_scaled_lr(0.05, staleness));
    EXPECT_EQ(asgd_step_lr(AsgdRule::staleness_momentum, 0.05, staleness),
              staleness_scaled_lr(0.05, staleness));
  }
  EXPECT_EQ(asgd_explicit_momentum(AsgdRule::plain, 0.9, 4), 0.9);
  EXPECT_EQ(asgd_explicit_momentum(AsgdRule::staleness, 0.9, 4), 0.9);
  EXPECT_DOUBLE_EQ(asgd_explicit_momentum(AsgdRule::momentum, 0.9, 4), 0.15);
  EXPECT_DOUBLE_EQ(asgd_explicit_momentum(AsgdRule::staleness_momentum, 0.9, 4), 0.15);
}

TEST(AsgdRule, NamesRoundTripAndAnUnknownOneIsAConfigErrorListingThem) {
  for (const auto rule : {AsgdRule::plain, AsgdRule::momentum, AsgdRule::staleness,
                          AsgdRule::staleness_momentum})
    EXPECT_EQ(parse_asgd_rule(asgd_rule_name(rule)), rule);
  EXPECT_EQ(asgd_rule_name(AsgdRule::momentum), "momentum");
  EXPECT_EQ(asgd_rule_name(AsgdRule::staleness_momentum), "staleness-momentum");
  try {
    parse_asgd_rule("downpour");
    FAIL() << "an unknown rule was accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "--asgd-rule must be one of plain, momentum, staleness, staleness-momentum (got "
              "'downpour')");
  }
  EXPECT_THROW(parse_asgd_rule("Staleness"), ConfigError);
}

TEST(AsgdRule, FiguresNameTheRuleAndTheMomenta) {
  const auto figures = asgd_rule_figures(AsgdRule::momentum, 0.9, 4);
  EXPECT_EQ(figures.at("asgd_rule"), "momentum");
  EXPECT_EQ(figures.at("asgd_momentum").get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(figures.at("asgd_explicit_momentum").get<double>(), 0.15);
  EXPECT_DOUBLE_EQ(figures.at("asgd_implicit_momentum").get<double>(), 0.75);
  EXPECT_EQ(asgd_rule_figures(AsgdRule::plain, 0.9, 4).at("asgd_explicit_momentum").get<double>(),
            0.9);
}

// A push of `gradient` from a worker that last saw `version`, at learning rate `lr`.
std::vector<float> push(int64_t version, double lr, const std::vector<float>& gradient) {
  std::vector<float> message(kHeaderFloats);
  auto header = make_header(Kind::push_gradient);
  header.version = version;
  header.lr = lr;
  write_header(message, header);
  message.insert(message.end(), gradient.begin(), gradient.end());
  return message;
}

struct Push {
  int worker;
  int64_t version;  // the version the worker computed on
  std::vector<float> gradient;
};

// Three workers' pushes, in an order that gives staleness 0, 1, 2, 3, 1 and 4.
const std::vector<Push> kPushes = {
    {0, 0, {0.5f, -1.0f, 2.0f}},  {1, 0, {0.25f, 0.5f, -0.75f}}, {2, 0, {-1.5f, 1.0f, 0.125f}},
    {0, 0, {1.0f, 1.0f, -1.0f}},  {1, 3, {0.3f, -0.2f, 0.1f}},   {2, 1, {-0.6f, 0.4f, 0.9f}},
};

// What the server's shard is after kPushes under `rule`, by the core.
std::vector<float> served(AsgdRule rule, double momentum, double lr, std::vector<float> start) {
  ServerSettings settings;
  settings.method = PsMethod::asgd;
  settings.workers = 3;
  settings.hyper = {momentum, 1e-3, false};
  settings.asgd_rule = rule;
  ServerCore server(settings, std::move(start), 0.0);
  std::vector<Reply> out;
  std::vector<int64_t> staleness;
  for (const auto& p : kPushes) {
    staleness.push_back(server.version() - p.version);
    server.handle(p.worker, push(p.version, lr, p.gradient), 0.0, out);
  }
  EXPECT_EQ(staleness, (std::vector<int64_t>{0, 1, 2, 3, 1, 4}));
  EXPECT_EQ(server.explicit_momentum(), asgd_explicit_momentum(rule, momentum, 3));
  // Every push answered at once, the last with the shard as it is now.
  EXPECT_EQ(out.size(), kPushes.size());
  const auto shard = server.shard();
  EXPECT_EQ(std::vector<float>(payload(out.back().message).begin(),
                               payload(out.back().message).end()),
            std::vector<float>(shard.begin(), shard.end()));
  return {shard.begin(), shard.end()};
}

// The same by the formulas: sgd_step at lr_i with explicit momentum mu_e.
std::vector<float> by_hand(bool scale_by_staleness, double explicit_momentum, double lr,
                           std::vector<float> x) {
  const std::vector<int64_t> staleness{0, 1, 2, 3, 1, 4};
  math::MomentumState state;
  for (std::size_t i = 0; i < kPushes.size(); ++i) {
    const double step_lr =
        !scale_by_staleness ? lr : lr / static_cast<double>(std::max<int64_t>(1, staleness[i]));
    math::sgd_step(x, kPushes[i].gradient, state, {explicit_momentum, 1e-3, false}, step_lr);
  }
  return x;
}

TEST(AsgdRule, TheServerStepsEachGradientByItsStalenessAndCompensatesTheMomentum) {
  const std::vector<float> start{1.0f, -2.0f, 0.5f};
  const double compensated = 0.9 - (1.0 - 1.0 / 3.0);
  EXPECT_EQ(served(AsgdRule::momentum, 0.9, 0.05, start), by_hand(false, compensated, 0.05, start));
  EXPECT_EQ(served(AsgdRule::staleness, 0.9, 0.05, start), by_hand(true, 0.9, 0.05, start));
  EXPECT_EQ(served(AsgdRule::staleness_momentum, 0.9, 0.05, start),
            by_hand(true, compensated, 0.05, start));
  // Each part of a rule makes a difference here (else the tests above prove nothing).
  EXPECT_NE(served(AsgdRule::momentum, 0.9, 0.05, start), by_hand(false, 0.9, 0.05, start));
  EXPECT_NE(served(AsgdRule::staleness, 0.9, 0.05, start), by_hand(false, 0.9, 0.05, start));
}

TEST(AsgdRule, ThePlainRuleIsDownpourUnchanged) {
  const std::vector<float> start{1.0f, -2.0f, 0.5f};
  EXPECT_EQ(served(AsgdRule::plain, 0.9, 0.05, start), by_hand(false, 0.9, 0.05, start));
}

TEST(AsgdRule, EasgdIgnoresTheRule) {
  ServerSettings settings;
  settings.method = PsMethod::easgd;
  settings.workers = 4;
  settings.hyper = {0.9, 0.0, false};
  settings.asgd_rule = AsgdRule::staleness_momentum;
  const ServerCore server(settings, std::vector<float>(3, 0.0f), 0.0);
  EXPECT_EQ(server.explicit_momentum(), 0.9);
}

// Staleness counts the updates since the parameters a gradient was computed
// on: a pull for evaluation hands the worker no new parameters to compute on,
// so it must not make the next gradient look fresher.
TEST(AsgdRule, APullDoesNotMoveTheVersionAWorkerComputesOn) {
  WorkerCore worker(PsMethod::asgd, make_ps_layout(6, 3, 1), 1, 0.0f);
  auto reply = [](Kind kind, int64_t version) {
    std::vector<float> message(kHeaderFloats + 6);
    auto header = make_header(kind);
    header.version = version;
    write_header(message, header);
    return message;
  };
  worker.read_reply(0, Kind::push_gradient, reply(Kind::push_gradient, 4));
  EXPECT_EQ(worker.versions(), std::vector<int64_t>{4});
  worker.read_reply(0, Kind::pull, reply(Kind::pull, 9));
  EXPECT_EQ(worker.versions(), std::vector<int64_t>{4});
  std::vector<float> request;
  worker.write_request(0, Kind::push_gradient, std::vector<float>(6, 1.0f), 5, 0, 0.1, request);
  EXPECT_EQ(read_header(request).version, 4);
}

}  // namespace
}  // namespace distsgd::ps
