// distsgd simulate against the real engine: with a free network the
// simulated synchronous and single-worker runs end where real mpirun runs on
// the same seeds and shards end (the final test loss, computed from the final
// parameters, to 1e-5), and bad simulator flags are refused by name.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "e2e_util.hpp"

namespace distsgd::testing {
namespace {

constexpr const char* kFlags =
    "--model cnn --batch-size 32 --epochs 1 --seed 5 --quiet --checkpoint-every 0 "
    "--eval-samples 2000";

// At 4 ranks Open MPI sums the gradients in another order than the
// simulator: the replicas differ by rounding (1e-7 after 3 steps), which
// training at lr 0.05, momentum 0.9 amplifies (4e-5 after 8 steps, measured),
// so that case compares after 4 steps.
struct Case {
  const char* algo;
  int ranks;
  int steps;
  const char* extra;
};

class SimulateMatchesEngine : public ::testing::TestWithParam<Case> {};

TEST_P(SimulateMatchesEngine, FinalLossAndAccuracyAgree) {
  const auto c = GetParam();
  const auto dir = make_temp_dir(fmt::format("sim-eq-{}-{}", c.algo, c.ranks));
  const auto real = run_distsgd(c.ranks, fmt::format("train --algo {} {} --max-steps {} {} --log-dir {}/real",
                                                     c.algo, kFlags, c.steps, c.extra, dir));
  ASSERT_EQ(real.exit_code, 0) << real.output;
  const auto sim = run_distsgd(
      0, fmt::format("simulate --algo {} --nodes {} --network free --compute-ms 5 {} --max-steps {} {} "
                     "--log-dir {}/sim",
                     c.algo, c.ranks, kFlags, c.steps, c.extra, dir));
  ASSERT_EQ(sim.exit_code, 0) << sim.output;
  const auto r = read_json(dir + "/real/summary.json");
  const auto s = read_json(dir + "/sim/summary.json");
  EXPECT_TRUE(s.at("simulated").get<bool>());
  const double real_loss = r.at("final_test_loss").get<double>();
  const double sim_loss = s.at("final_test_loss").get<double>();
  EXPECT_NEAR(sim_loss, real_loss, 1e-5 * real_loss);
  EXPECT_NEAR(s.at("final_test_accuracy").get<double>(), r.at("final_test_accuracy").get<double>(),
              1e-9);
  EXPECT_EQ(s.at("workers"), r.at("workers"));
}

INSTANTIATE_TEST_SUITE_P(E2e, SimulateMatchesEngine,
                         ::testing::Values(Case{"allreduce", 2, 25, ""}, Case{"allreduce", 4, 4, ""},
                                           Case{"asgd", 2, 25, "--momentum 0.5"},
                                           Case{"easgd", 2, 25, "--tau 2"}),
                         [](const auto& info) {
                           return fmt::format("{}_np{}", info.param.algo == std::string("allreduce")
                                                             ? "allreduce"
                                                             : info.param.algo,
                                              info.param.ranks);
                         });

TEST(SimulateE2e, BadSimulatorFlagsAreRefusedByName) {
  const auto dir = make_temp_dir("sim-bad");
  for (const auto& [flags, expected] :
       std::vector<std::pair<std::string, std::string>>{
           {"--nodes 4 --network 7gbe", "7gbe"},
           {"--nodes 4 --allreduce butterfly", "butterfly"},
           {"--nodes 0", "--nodes 0"},
           {"--nodes 1 --algo asgd", "server"},
           {"--nodes 4 --compute-ms -3", "--compute-ms"},
           {"--nodes 4 --leave-early 1:5", "--leave-early: not modelled"},
           {"--nodes 4 --stop-at-target", "--target-accuracy"},
           {"--nodes 4 --network /nonexistent/cal.json", "cal.json"}}) {
    const auto result = run_distsgd(
        0, fmt::format("simulate --model mlp --max-steps 2 --quiet {} --log-dir {}", flags, dir));
    EXPECT_NE(result.exit_code, 0) << flags;
    EXPECT_NE(result.output.find(expected), std::string::npos) << flags << ": " << result.output;
    EXPECT_EQ(result.output.find("terminate"), std::string::npos) << result.output;
  }
}

TEST(SimulateE2e, TimingOnlyRunsAModelTooLargeToTrainHereAtScale) {
  const auto dir = make_temp_dir("sim-timing");
  const auto result = run_distsgd(
      0, fmt::format("simulate --algo allreduce --nodes 256 --model resnet18 --dataset synthetic "
                     "--timing-only --compute-ms 100 --max-steps 3 --network 100g-ib --quiet "
                     "--log-dir {}",
                     dir));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto s = read_json(dir + "/summary.json");
  EXPECT_TRUE(s.at("timing_only").get<bool>());
  EXPECT_TRUE(s.at("final_test_accuracy").is_null());
  EXPECT_GT(s.at("step_time_median_s").get<double>(), 0.1);
  EXPECT_EQ(s.at("breakdown").at("comm_s").size(), 256u);
}

}  // namespace
}  // namespace distsgd::testing

namespace distsgd::testing {
namespace {

TEST(SimulateE2e, CompareSimulateRunsEveryConfigurationAndMarksItSimulated) {
  const auto dir = make_temp_dir("sim-compare");
  const auto result = run_distsgd(
      0, fmt::format("compare --simulate --sim-flags '--network 10gbe --compute-ms 10' "
                     "--nodes 2,16 --algos allreduce,asgd,gossip-push --model mlp --max-steps 12 "
                     "--eval-samples 500 --method-flags 'asgd=--momentum 0 --lr 0.02' --out {}",
                     dir));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto manifest = read_json(dir + "/runs.json");
  EXPECT_TRUE(manifest.at("simulated").get<bool>());
  ASSERT_EQ(manifest.at("runs").size(), 6u);
  for (const auto& run : manifest.at("runs")) {
    EXPECT_EQ(run.at("status"), "ok") << run.dump();
    const auto summary = read_json(fmt::format("{}/runs/{}/summary.json", dir,
                                               run.at("name").get<std::string>()));
    EXPECT_TRUE(summary.at("simulated").get<bool>());
    EXPECT_EQ(summary.at("nodes"), run.at("nodes"));
  }
  const auto csv = run_shell(fmt::format("cat {}/results.csv", dir), 10).output;
  EXPECT_NE(csv.find(",simulated\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",yes\n"), std::string::npos) << csv;
  const auto report = run_shell(fmt::format("cat {}/report.md", dir), 10).output;
  EXPECT_NE(report.find("(simulated)"), std::string::npos);
  EXPECT_NE(report.find("virtual"), std::string::npos);

  const auto bad = run_distsgd(
      0, fmt::format("compare --simulate --sim-flags '--network 3gbe-ish --nodez 2' --nodes 2 "
                     "--algos allreduce --out {}/bad",
                     dir));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--sim-flags"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace distsgd::testing
