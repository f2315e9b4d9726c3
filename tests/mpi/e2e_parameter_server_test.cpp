// ASGD and EASGD as a user runs them: real mpirun jobs of the distsgd command
// on Fashion-MNIST, workers and parameter servers in separate ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "methods/update_math.hpp"
#include "e2e_summary.hpp"
#include "train/checkpoint.hpp"

namespace distsgd::testing {
namespace {

std::vector<float> final_params(const nlohmann::json& summary) {
  return read_checkpoint(summary.at("dir").get<std::string>() + "/final.ckpt").tensors.at("params");
}

// Every request a server received was answered, and the figures add up.
void expect_every_request_answered(const nlohmann::json& summary) {
  const auto& method = summary.at("method");
  EXPECT_EQ(method.at("server_requests"), method.at("server_replies")) << method.dump();
  EXPECT_GT(method.at("server_requests").get<double>(), 0.0);
}

const std::string kShort = "train --model cnn --epochs 1 --eval-samples 500 ";

TEST(ParameterServer, AsgdWithOneWorkerIsPlainSgdWithMomentumStepForStep) {
  const std::string args = kShort + "--max-steps 25 --momentum 0.9 --weight-decay 0.0005 ";
  const auto sgd = run_ok(1, args + "--algo allreduce", "plain");
  const auto asgd = run_ok(2, args + "--algo asgd", "asgd1");
  // Two servers: the shards must reassemble into exactly the same vector.
  const auto asgd2 = run_ok(3, args + "--algo asgd --servers 2", "asgd2");
  ASSERT_FALSE(sgd.empty() || asgd.empty() || asgd2.empty());
  const auto expected = final_params(sgd);
  EXPECT_LE(math::max_abs_difference(final_params(asgd), expected), 1e-6);
  EXPECT_LE(math::max_abs_difference(final_params(asgd2), expected), 1e-6);
  EXPECT_EQ(asgd.at("steps"), 25);
  EXPECT_EQ(asgd.at("servers"), 1);
  EXPECT_EQ(asgd2.at("servers"), 2);
  // One worker: every gradient is applied to the version it was computed on.
  EXPECT_EQ(asgd.at("staleness_max"), 0.0);
  EXPECT_EQ(asgd.at("final_test_accuracy"), sgd.at("final_test_accuracy"));
  expect_every_request_answered(asgd2);
}

TEST(ParameterServer, EasgdCentreIsTheSameWithOneOrTwoServers) {
  // Evaluated on the whole test set, so that two different models are
  // unlikely to score the same.
  const std::string args =
      "train --model cnn --epochs 1 --eval-samples 0 --max-steps 20 --algo easgd --tau 2 ";
  const auto one = run_ok(2, args, "easgd1");
  const auto two = run_ok(3, args + "--servers 2", "easgd2");
  // The start: the same seed's initial parameters, which one step at
  // learning rate 0 leaves as they are.
  const auto start = run_ok(1, kShort + "--max-steps 1 --lr 0 --algo allreduce", "start");
  ASSERT_FALSE(one.empty() || two.empty() || start.empty());
  // final.ckpt of EASGD holds the centre, the model its final evaluation scored.
  const auto centre = final_params(one);
  EXPECT_LE(math::max_abs_difference(centre, final_params(two)), 1e-6);
  // 20 steps with tau 2: 10 elastic exchanges with each server.
  EXPECT_EQ(one.at("method").at("server_updates"), 10.0);
  EXPECT_EQ(two.at("method").at("server_updates"), 20.0);
  EXPECT_DOUBLE_EQ(one.at("method").at("easgd_alpha").get<double>(), 0.9);
  // The centre moved away from the start...
  const auto initial = final_params(start);
  ASSERT_EQ(initial.size(), centre.size());
  EXPECT_GT(math::max_abs_difference(centre, initial), 1e-3);
  // ...but is not the worker's replica: the two score differently (the final
  // evaluation scores the centre, the local one worker 0's replica).
  EXPECT_NE(one.at("final_test_accuracy").get<double>(),
            one.at("final_local_test_accuracy").get<double>())
      << one.dump();
  // One worker: there is no other replica to diverge from.
  EXPECT_EQ(one.at("max_param_divergence").get<double>(), 0.0);
}

TEST(ParameterServer, StalenessBoundHoldsTheFastWorkerBackToTheSlowOne) {
  const std::string args =
      "train --model cnn --epochs 1 --eval-samples 200 --max-steps 30 --algo asgd "
      "--straggler 1:8 ";
  const auto free = run_ok(3, args, "unbounded");
  const auto bounded = run_ok(3, args + "--max-staleness 1", "bounded");
  ASSERT_FALSE(free.empty() || bounded.empty());
  const auto& fast_free = free.at("worker_step_time_median_s");
  const auto& fast_bounded = bounded.at("worker_step_time_median_s");
  // Bounded: worker 0 may lead by at most 1 update, so it waits for worker 1
  // and its steps take about as long as the straggler's.
  EXPECT_LE(bounded.at("method").at("max_lead").get<double>(), 1.0);
  EXPECT_GT(bounded.at("method").at("held_replies").get<double>(), 0.0);
  EXPECT_GT(fast_bounded[0].get<double>(), 0.5 * fast_bounded[1].get<double>()) << bounded.dump();
  // Unbounded: the slow worker does not slow the fast one, which runs ahead.
  EXPECT_GT(free.at("method").at("max_lead").get<double>(), 5.0);
  EXPECT_EQ(free.at("method").at("held_replies").get<double>(), 0.0);
  EXPECT_LT(fast_free[0].get<double>(), 0.5 * fast_free[1].get<double>()) << free.dump();
  // A gradient of the straggler is applied many updates late.
  EXPECT_GT(free.at("staleness_max").get<double>(), bounded.at("staleness_max").get<double>());
  expect_every_request_answered(free);
  expect_every_request_answered(bounded);
}

TEST(ParameterServer, WorkersStoppingAtDifferentStepsEndCleanly) {
  // Worker 1 leaves after 5 steps; worker 0 trains on for longer than the
  // 3 s deadline, which the finished worker must survive (the server answers
  // it every second), and then everyone ends together. However fast the
  // machine: every step sleeps 20 ms (--straggler-random with probability 1),
  // so worker 0's 245 steps after worker 1 has left take at least 4.9 s.
  const auto asgd = run_ok(3,
                           kShort +
                               "--algo asgd --max-steps 250 --leave-early 1:5 --timeout-s 3 "
                               "--straggler-random 1:20",
                           "leave");
  ASSERT_FALSE(asgd.empty());
  EXPECT_EQ(asgd.at("worker_steps"), nlohmann::json({250, 5}));
  const auto& injected = asgd.at("straggler").at("injected_s_per_worker");
  EXPECT_NEAR(injected[0].get<double>(), 250 * 0.020, 1e-6);
  EXPECT_NEAR(injected[1].get<double>(), 5 * 0.020, 1e-6);
  EXPECT_GT(asgd.at("train_time_s").get<double>(), 250 * 0.020);
  expect_every_request_answered(asgd);
  // Worker 0 leaving first, with two servers and EASGD.
  const auto easgd =
      run_ok(4, kShort + "--algo easgd --servers 2 --max-steps 30 --leave-early 0:3", "leave0");
  ASSERT_FALSE(easgd.empty());
  EXPECT_EQ(easgd.at("worker_steps"), nlohmann::json({3, 30}));
  EXPECT_EQ(easgd.at("method").at("server_updates"), 66.0);  // (3 + 30) exchanges x 2 servers
  expect_every_request_answered(easgd);
}

// --asgd-rule: at settings where Downpour's plain rule diverges with three
// workers, the default (--momentum as the effective momentum, the servers'
// own max(0, 0.9 - 2/3)) trains, and summary.json says which rule ran with
// which momentum.
TEST(ParameterServer, TheDefaultAsgdRuleTrainsWhereThePlainRuleDiverges) {
  // Measured (2026-12, 2 cores): the default reached 0.83-0.85 in 300 steps,
  // plain hit a NaN loss by step 10-14 in every one of four runs.
  const std::string args =
      "train --algo asgd --model mlp --epochs 1 --batch-size 32 --max-steps 300 "
      "--eval-samples 1000 --lr 0.1 --momentum 0.9 --checkpoint-every 0";
  const auto remedy = run_ok(4, args, "asgd-rule-default");
  ASSERT_FALSE(remedy.empty());
  const auto& method = remedy.at("method");
  EXPECT_EQ(method.at("asgd_rule"), "momentum");
  EXPECT_DOUBLE_EQ(method.at("asgd_momentum").get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(method.at("asgd_explicit_momentum").get<double>(), 0.9 - 2.0 / 3.0);
  EXPECT_GE(remedy.at("final_test_accuracy").get<double>(), 0.75) << remedy.dump();
  expect_every_request_answered(remedy);

  const auto dir = make_temp_dir("asgd-rule-plain");
  const auto plain = run_distsgd(4, args + " --asgd-rule plain --quiet --log-dir " + dir, 300);
  // Diverged: a NaN loss stops the run (and names the step), or the run ends
  // with a model no better than chance.
  if (plain.exit_code == 0) {
    const auto summary = read_json(dir + "/summary.json");
    EXPECT_EQ(summary.at("method").at("asgd_rule"), "plain");
    EXPECT_LT(summary.at("final_test_accuracy").get<double>(), 0.2) << summary.dump();
  } else {
    EXPECT_NE(plain.output.find("loss is"), std::string::npos) << plain.output;
  }
}

TEST(ParameterServer, CnnOneEpochTwoWorkersOneServerReaches85Percent) {
  // ASGD at the synchronous settings (lr 0.05, momentum 0.9, batch 32): the
  // default --asgd-rule momentum takes asynchrony's own momentum into account
  // (Mitliagkas et al. 2016), where the plain rule diverges. Measured: 0.867-0.871
  // in three runs at batch 32 (0.854 once at batch 64, too close to the bar).
  const auto asgd = run_ok(3,
                           "train --algo asgd --model cnn --epochs 1 --batch-size 32 --lr 0.05 "
                           "--momentum 0.9",
                           "asgd-acc", 600);
  const auto easgd =
      run_ok(3, "train --algo easgd --model cnn --epochs 1 --lr 0.1 --lr-schedule cosine",
             "easgd-acc", 600);
  ASSERT_FALSE(asgd.empty() || easgd.empty());
  EXPECT_GE(asgd.at("final_test_accuracy").get<double>(), 0.85) << asgd.dump();
  EXPECT_GE(easgd.at("final_test_accuracy").get<double>(), 0.85) << easgd.dump();
  EXPECT_GE(easgd.at("final_local_test_accuracy").get<double>(), 0.80) << easgd.dump();
  for (const auto* summary : {&asgd, &easgd}) {
    EXPECT_EQ(summary->at("workers"), 2);
    EXPECT_EQ(summary->at("servers"), 1);
    EXPECT_EQ(summary->at("epochs"), 1.0);
    EXPECT_GT(summary->at("server_updates_per_s").get<double>(), 0.0);
    // Two workers: some updates were computed on a version the other worker
    // had moved on from by the time they arrived.
    EXPECT_GT(summary->at("staleness_mean").get<double>(), 0.0) << summary->dump();
    EXPECT_GE(summary->at("staleness_max").get<double>(), 1.0) << summary->dump();
    expect_every_request_answered(*summary);
  }
}

}  // namespace
}  // namespace distsgd::testing
