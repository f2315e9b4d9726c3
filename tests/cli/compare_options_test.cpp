// CompareOptions: --method-flags, the launcher command, and validate(), which
// must reject every bad comparison before any run starts, naming the problem.
#include "cli/compare_options.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "comm/mpi_launcher.hpp"
#include "core/errors.hpp"
#include "temp_dir.hpp"

namespace distsgd::cli {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CompareOptions, MethodFlagsAreGroupedByMethodInOrder) {
  CompareOptions options;
  options.method_flags = {"asgd=--momentum 0.5", "easgd=--tau 4", "asgd=--lr 0.1"};
  EXPECT_EQ(options.flags_by_method(),
            (std::map<std::string, std::string>{{"asgd", "--momentum 0.5 --lr 0.1"},
                                                {"easgd", "--tau 4"}}));
  // Only the part before the first '=' names the method.
  options.method_flags = {"asgd=--lr-scaling=linear"};
  EXPECT_EQ(options.flags_by_method().at("asgd"), "--lr-scaling=linear");
}

TEST(CompareOptions, MalformedMethodFlagsNameTheEntry) {
  for (const std::string entry : {"asgd", "=--lr 0.1"}) {
    CompareOptions options;
    options.method_flags = {entry};
    try {
      options.flags_by_method();
      ADD_FAILURE() << "no error for '" << entry << "'";
    } catch (const ConfigError& error) {
      EXPECT_TRUE(contains(error.what(), "--method-flags must be METHOD=FLAGS")) << error.what();
      EXPECT_TRUE(contains(error.what(), "(got '" + entry + "')")) << error.what();
    }
  }
}

TEST(CompareOptions, ArgsForAMethodAreTheCommonFlagsThenItsOwn) {
  CompareOptions options;
  options.train_args = {"--model", "mlp"};
  options.method_flags = {"asgd=--momentum 0.5  --lr 0.1"};
  EXPECT_EQ(options.args_for("asgd"),
            (std::vector<std::string>{"--model", "mlp", "--momentum", "0.5", "--lr", "0.1"}));
  EXPECT_EQ(options.args_for("easgd"), (std::vector<std::string>{"--model", "mlp"}));
}

TEST(CompareOptions, LauncherIsTheGivenCommandWithTheHostfile) {
  CompareOptions options;
  options.mpirun = "srun --mpi=pmix";
  EXPECT_EQ(options.launcher(), "srun --mpi=pmix");
  options.hostfile = "hosts.txt";
  EXPECT_EQ(options.launcher(), "srun --mpi=pmix --hostfile hosts.txt");
}

// The launcher of the MPI test_cli is linked against (the build's primary),
// with that MPI's own flags for one host.
TEST(CompareOptions, DefaultLauncherIsThisMpisOwnForOneHost) {
  CompareOptions options;
  const auto mpi = distsgd::comm::mpi_launcher();
  const auto command = options.launcher();
  EXPECT_EQ(command.rfind(mpi.mpiexec, 0), 0u) << command;
  EXPECT_TRUE(std::filesystem::exists(mpi.mpiexec)) << mpi.mpiexec;
  if (mpi.flavour == "Open MPI") {
    // Open MPI refuses more ranks than cores and binds ranks to cores unless
    // told, and passes no variable it is not named.
    EXPECT_TRUE(contains(command, "--oversubscribe")) << command;
    EXPECT_TRUE(contains(command, "--bind-to none")) << command;
    EXPECT_TRUE(contains(command, "-x OPENBLAS_NUM_THREADS")) << command;
    EXPECT_EQ(contains(command, "--allow-run-as-root"), geteuid() == 0) << command;
  } else {
    EXPECT_EQ(command, mpi.mpiexec) << "Hydra needs no flags for one host";
  }
  EXPECT_FALSE(contains(command, mpi.hostfile_flag + " ")) << command;
  options.hostfile = "h";
  EXPECT_TRUE(contains(options.launcher(), " " + mpi.hostfile_flag + " h")) << options.launcher();
}

TEST(CompareOptions, ValidOptionsPassAndLeaveNoProbeFileBehind) {
  distsgd::testing::TempDir dir;
  CompareOptions options;
  options.nodes = {1, 2};
  options.algos = {"allreduce", "asgd"};  // asgd cannot run on 1 rank, but can on 2
  options.out = dir.file("out");          // created by validate()
  options.train_args = {"--model", "mlp"};
  options.method_flags = {"asgd=--momentum 0.5"};
  options.straggler = "0:2";
  EXPECT_NO_THROW(options.validate());
  EXPECT_TRUE(std::filesystem::is_directory(options.out));
  EXPECT_EQ(distsgd::testing::entries_of(options.out), std::vector<std::string>{});
}

// One change to valid options, and the message validate() must give.
struct BadCompare {
  const char* name;
  std::function<void(CompareOptions&)> change;
  std::string message;
};

void PrintTo(const BadCompare& c, std::ostream* out) { *out << c.message; }

class CompareOptionsRejects : public ::testing::TestWithParam<BadCompare> {};

TEST_P(CompareOptionsRejects, WithAConfigErrorSayingWhy) {
  distsgd::testing::TempDir dir;
  CompareOptions options;
  options.nodes = {2};
  options.algos = {"allreduce", "asgd"};
  options.out = dir.file("out");
  GetParam().change(options);
  try {
    options.validate();
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_TRUE(contains(error.what(), GetParam().message))
        << "expected '" << GetParam().message << "' in: " << error.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Options, CompareOptionsRejects,
    ::testing::Values(
        BadCompare{"NoNodes", [](auto& o) { o.nodes.clear(); },
                   "compare: --nodes and --algos must not be empty"},
        BadCompare{"NoAlgos", [](auto& o) { o.algos.clear(); },
                   "compare: --nodes and --algos must not be empty"},
        BadCompare{"ZeroNodes",
                   [](auto& o) {
                     o.nodes = {2, 0};
                   },
                   "compare: --nodes must be at least 1 (got 0)"},
        BadCompare{"ZeroRepeat", [](auto& o) { o.repeat = 0; },
                   "compare: --repeat must be at least 1 (got 0)"},
        BadCompare{"UnknownMethod", [](auto& o) { o.algos.push_back("nope"); },
                   "compare: unknown method 'nope' (known: allreduce, asgd"},
        BadCompare{"MethodFlagsForAMethodNotCompared",
                   [](auto& o) { o.method_flags = {"easgd=--tau 2"}; },
                   "compare: --method-flags names 'easgd', which is not in --algos"},
        BadCompare{"MalformedMethodFlags", [](auto& o) { o.method_flags = {"asgd"}; },
                   "--method-flags must be METHOD=FLAGS"},
        BadCompare{"AlgoInTrainFlags",
                   [](auto& o) {
                     o.train_args = {"--algo", "asgd"};
                   },
                   "compare: --algo is set by compare itself"},
        BadCompare{"AlgoWithEqualsInTrainFlags", [](auto& o) { o.train_args = {"--algo=asgd"}; },
                   "compare: --algo=asgd is set by compare itself"},
        BadCompare{"LogDirInTrainFlags",
                   [](auto& o) {
                     o.train_args = {"--log-dir", "x"};
                   },
                   "compare: --log-dir is set by compare itself"},
        BadCompare{"UnknownTrainFlag", [](auto& o) { o.train_args = {"--no-such-flag"}; },
                   "--no-such-flag"},
        BadCompare{"BadTrainValue",
                   [](auto& o) {
                     o.train_args = {"--momentum", "1.5"};
                   },
                   "--momentum must be in [0, 1)"},
        BadCompare{"BadMethodFlagValue", [](auto& o) { o.method_flags = {"asgd=--lr -1"}; },
                   "--lr must be a finite number >= 0 (got -1)"},
        BadCompare{"MalformedStraggler", [](auto& o) { o.straggler = "1x4"; },
                   "--straggler must be RANK:VALUE"},
        BadCompare{"StragglerFactorBelowOne", [](auto& o) { o.straggler = "0:0.5"; },
                   "--straggler factor must be >= 1"},
        BadCompare{"MethodImpossibleAtEveryNodeCount", [](auto& o) { o.nodes = {1}; },
                   "compare: asgd cannot run at any of the node counts 1: a parameter-server "
                   "method needs at least 2 ranks"},
        BadCompare{"UnwritableOut", [](auto& o) { o.out = "/dev/null/out"; },
                   "compare: --out /dev/null/out cannot be written"}),
    [](const ::testing::TestParamInfo<BadCompare>& info) { return info.param.name; });

}  // namespace
}  // namespace distsgd::cli
