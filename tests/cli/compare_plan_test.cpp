// The plan of `distsgd compare` (plan_runs, why_impossible, parse_train_args):
// which runs, in which order, with which flags, and which are skipped and why.
#include "cli/compare_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace distsgd::cli {
namespace {

using Args = std::vector<std::string>;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> names_of(const std::vector<PlannedRun>& runs) {
  std::vector<std::string> names;
  for (const auto& run : runs) names.push_back(run.name);
  return names;
}

CompareOptions two_methods() {
  CompareOptions options;
  options.nodes = {1, 2};
  options.algos = {"allreduce", "asgd"};
  options.repeat = 2;
  options.straggler = "0:3";
  options.train_args = {"--model", "mlp"};
  options.method_flags = {"asgd=--momentum 0.5"};
  return options;
}

TEST(ComparePlan, RunsInOrderOfNodesMethodRepeatThenStraggler) {
  const auto runs = plan_runs(two_methods());
  EXPECT_EQ(names_of(runs),
            (std::vector<std::string>{
                "allreduce-n1-r1", "allreduce-n1-r1-straggler", "allreduce-n1-r2",
                "allreduce-n1-r2-straggler", "asgd-n1-r1", "asgd-n1-r1-straggler", "asgd-n1-r2",
                "asgd-n1-r2-straggler", "allreduce-n2-r1", "allreduce-n2-r1-straggler",
                "allreduce-n2-r2", "allreduce-n2-r2-straggler", "asgd-n2-r1",
                "asgd-n2-r1-straggler", "asgd-n2-r2", "asgd-n2-r2-straggler"}));
  for (const auto& run : runs) {
    SCOPED_TRACE(run.name);
    EXPECT_EQ(
        run.name.rfind(
            run.algo + "-n" + std::to_string(run.nodes) + "-r" + std::to_string(run.repeat), 0),
        0u);
    EXPECT_EQ(run.straggler.empty(), !contains(run.name, "-straggler"));
    if (!run.straggler.empty()) {
      EXPECT_EQ(run.straggler, "0:3");
    }
  }
}

TEST(ComparePlan, TrainArgsNameTheMethodAddItsFlagsAndTurnCheckpointsOff) {
  const auto runs = plan_runs(two_methods());
  ASSERT_EQ(runs.size(), 16u);
  // allreduce-n1-r1: the common flags only.
  EXPECT_EQ(runs[0].train_args, (Args{"--algo", "allreduce", "--model", "mlp", "--checkpoint-every",
                                      "0", "--evaluations", "12"}));
  // Its straggler variant: the same, then --straggler.
  EXPECT_EQ(runs[1].train_args, (Args{"--algo", "allreduce", "--model", "mlp", "--checkpoint-every",
                                      "0", "--evaluations", "12", "--straggler", "0:3"}));
  // asgd gets its --method-flags, split into words; allreduce does not.
  EXPECT_EQ(runs[4].algo, "asgd");
  EXPECT_EQ(runs[4].train_args, (Args{"--algo", "asgd", "--model", "mlp", "--momentum", "0.5",
                                      "--checkpoint-every", "0", "--evaluations", "12"}));
  for (const auto& run : runs) {
    if (run.algo == "allreduce") {
      EXPECT_EQ(std::count(run.train_args.begin(), run.train_args.end(), "--momentum"), 0)
          << run.name;
    }
    EXPECT_EQ(std::count(run.train_args.begin(), run.train_args.end(), "--log-dir"), 0) << run.name;
  }
}

TEST(ComparePlan, AnExplicitCheckpointEveryIsKept) {
  CompareOptions options;
  options.nodes = {2};
  options.algos = {"allreduce"};
  options.train_args = {"--checkpoint-every", "2"};
  const auto runs = plan_runs(options);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].train_args,
            (Args{"--algo", "allreduce", "--checkpoint-every", "2", "--evaluations", "12"}));
}

TEST(ComparePlan, AGivenEvaluationCadenceIsKept) {
  for (const Args& given : {Args{"--eval-every", "50"}, Args{"--evaluations", "3"}}) {
    CompareOptions options;
    options.nodes = {2};
    options.algos = {"allreduce"};
    options.train_args = given;
    const auto runs = plan_runs(options);
    ASSERT_EQ(runs.size(), 1u);
    Args expected = {"--algo", "allreduce"};
    expected.insert(expected.end(), given.begin(), given.end());
    expected.insert(expected.end(), {"--checkpoint-every", "0"});
    EXPECT_EQ(runs[0].train_args, expected);
  }
}

TEST(ComparePlan, NoStragglerNoStragglerRuns) {
  CompareOptions options;
  options.nodes = {2, 4};
  options.algos = {"gossip-pull"};
  const auto runs = plan_runs(options);
  EXPECT_EQ(names_of(runs), (std::vector<std::string>{"gossip-pull-n2-r1", "gossip-pull-n4-r1"}));
  for (const auto& run : runs) {
    EXPECT_TRUE(run.straggler.empty());
    EXPECT_EQ(std::count(run.train_args.begin(), run.train_args.end(), "--straggler"), 0);
    EXPECT_EQ(run.repeat, 1);
  }
}

TEST(ComparePlan, ImpossibleRunsStayInThePlanWithTheirReason) {
  auto options = two_methods();
  options.straggler = "1:3";  // rank 1: a worker on 2 allreduce ranks, the server of asgd on 2
  const auto runs = plan_runs(options);
  for (const auto& run : runs) {
    SCOPED_TRACE(run.name);
    if (run.algo == "asgd" && run.nodes == 1) {
      // A parameter server needs a worker and a server.
      EXPECT_TRUE(contains(run.skip_reason, "at least 2 ranks")) << run.skip_reason;
    } else if (!run.straggler.empty() && (run.nodes == 1 || run.algo == "asgd")) {
      // Rank 1 is no worker: not on 1 rank, and not the server of asgd on 2.
      EXPECT_TRUE(contains(run.skip_reason, "--straggler names rank 1")) << run.skip_reason;
    } else {
      EXPECT_EQ(run.skip_reason, "");
    }
  }
}

TEST(ComparePlan, WhyImpossibleIsEmptyExactlyWhenTheMethodCanRun) {
  EXPECT_EQ(why_impossible("allreduce", 1, {}, ""), "");
  EXPECT_EQ(why_impossible("gossip-pull", 2, {}, ""), "");
  EXPECT_TRUE(contains(why_impossible("gossip-pull", 1, {}, ""), "needs at least 2 ranks"));
  EXPECT_TRUE(contains(why_impossible("gossip-push", 2, {"--gossip-peers", "2"}, ""),
                       "--gossip-peers 2 must be less than the number of ranks (2)"));
  EXPECT_TRUE(contains(why_impossible("easgd", 3, {"--servers", "3"}, ""), "--servers 3"));
  EXPECT_EQ(why_impossible("easgd", 4, {"--servers", "3"}, ""), "");
  // The straggler argument overrides the one in the train flags.
  EXPECT_EQ(why_impossible("allreduce", 2, {"--straggler", "5:2"}, "1:2"), "");
  EXPECT_TRUE(contains(why_impossible("allreduce", 2, {}, "5:2"), "--straggler names rank 5"));
  // The method is compare's, not the train flags'.
  EXPECT_TRUE(contains(why_impossible("nope", 2, {}, ""), "unknown --algo 'nope'"));
}

TEST(ParseTrainArgs, ReadsFlagsInTheOrderGiven) {
  const auto config = parse_train_args({"--lr", "0.5", "--epochs", "3", "--no-augment",
                                        "--lr-decay-epochs", "1,2", "--model", "mlp"});
  EXPECT_DOUBLE_EQ(config.lr, 0.5);
  EXPECT_EQ(config.epochs, 3);
  EXPECT_FALSE(config.augment);
  EXPECT_EQ(config.lr_decay_epochs, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(config.model, "mlp");
  EXPECT_EQ(config.algo, TrainConfig{}.algo);  // untouched flags keep their defaults
}

// A bad train flag is a ConfigError naming the flag, before anything runs.
struct BadTrainArgs {
  const char* name;
  Args args;
  const char* message;
};

void PrintTo(const BadTrainArgs& c, std::ostream* out) {
  for (const auto& arg : c.args) *out << arg << ' ';
}

class ParseTrainArgsRejects : public ::testing::TestWithParam<BadTrainArgs> {};

TEST_P(ParseTrainArgsRejects, WithAConfigErrorNamingTheFlag) {
  const auto& param = GetParam();
  try {
    parse_train_args(param.args);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_TRUE(contains(error.what(), param.message))
        << "expected '" << param.message << "' in: " << error.what();
    EXPECT_EQ(error.exit_code(), 2);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Flags, ParseTrainArgsRejects,
    ::testing::Values(
        BadTrainArgs{"UnknownFlag", {"--no-such-flag", "3"}, "--no-such-flag"},
        BadTrainArgs{"UnknownFlagHasTheComparePrefix", {"--no-such-flag"}, "compare: train flags"},
        BadTrainArgs{"NotANumber", {"--lr", "fast"}, "--lr"},
        BadTrainArgs{"MissingValue", {"--epochs"}, "--epochs"},
        BadTrainArgs{"NotAMember", {"--nan-policy", "ignore"}, "--nan-policy"},
        BadTrainArgs{"FailsValidation", {"--epochs", "0"}, "--epochs must be at least 1 (got 0)"},
        BadTrainArgs{
            "MalformedStraggler", {"--straggler", "1x4"}, "--straggler must be RANK:VALUE"},
        BadTrainArgs{"NesterovWithoutMomentum",
                     {"--nesterov", "--momentum", "0"},
                     "--nesterov needs --momentum > 0"}),
    [](const ::testing::TestParamInfo<BadTrainArgs>& info) { return info.param.name; });

}  // namespace
}  // namespace distsgd::cli
