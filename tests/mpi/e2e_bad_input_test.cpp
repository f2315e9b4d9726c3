// Bad files and bad flags: a clear message naming what is wrong, a non-zero
// exit, and no hang, also under mpirun with several ranks. The no-hang guard
// is run_distsgd's time limit (kLimitS): a job still running then is killed
// and reported as a hang (exit code 124), however slow the machine.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "e2e_util.hpp"

namespace distsgd::testing {
namespace {

// Generous: a failing job ends within seconds (at startup, before training).
constexpr double kLimitS = 120;

CommandResult run_bad(int ranks, const std::string& args) {
  return run_distsgd(ranks, args, kLimitS);
}

void expect_clear_failure(const CommandResult& run, int code, const std::string& message) {
  EXPECT_NE(run.exit_code, 124) << "still running after " << kLimitS << " s (a hang):\n"
                                << run.output;
  EXPECT_EQ(run.exit_code, code) << run.output;
  EXPECT_NE(run.output.find(message), std::string::npos) << "expected '" << message << "' in:\n"
                                                         << run.output;
}

// A copy of Fashion-MNIST with one file replaced by `content`.
std::string broken_dataset(const std::string& name, const std::string& file,
                           const std::string& content) {
  const auto dir = make_temp_dir(name);
  for (const auto& entry : std::filesystem::directory_iterator("/usr/share/datasets/fashion-mnist"))
    std::filesystem::copy(entry.path(), dir + "/" + entry.path().filename().string());
  std::ofstream(dir + "/" + file, std::ios::binary | std::ios::trunc) << content;
  return dir;
}

TEST(BadInput, TruncatedImageFileOnFourRanks) {
  const auto data = broken_dataset("truncated", "train-images-idx3-ubyte.gz", "\x1f\x8b\x08");
  const auto run = run_bad(4, "train --dataset mnist-idx --data-dir " + data +
                                  " --quiet --log-dir " + make_temp_dir("log"));
  expect_clear_failure(run, 2, "train-images-idx3-ubyte.gz");
}

TEST(BadInput, LabelFileWithWrongMagicOnTwoRanks) {
  std::string labels("\x00\x00\x08\x03\x00\x00\x00\x02\x01\x02", 10);
  const auto data = broken_dataset("magic", "t10k-labels-idx1-ubyte.gz", labels);
  // Not gzipped: the reader takes raw files too, and must reject the magic.
  const auto run = run_bad(2, "train --dataset mnist-idx --data-dir " + data +
                                  " --quiet --log-dir " + make_temp_dir("log"));
  expect_clear_failure(run, 2, "t10k-labels-idx1-ubyte.gz");
}

TEST(BadInput, CorruptCheckpointOnResume) {
  const auto dir = make_temp_dir("ckpt");
  std::ofstream(dir + "/bad.ckpt", std::ios::binary) << "DSGDCKPT\x01\x00\x00\x00garbage";
  expect_clear_failure(run_bad(2, "train --quiet --resume " + dir + "/bad.ckpt --log-dir " + dir),
                       2, "bad.ckpt");
}

// One rank started with another flag (mpirun's MPMD syntax): that rank names
// the flag and both values, and the job ends.
TEST(BadInput, RanksStartedWithDifferentFlags) {
  const auto log = make_temp_dir("mismatch");
  const std::string common = " train --model mlp --max-steps 20 --quiet --log-dir " + log;
  const auto run = run_bad(
      1, common + " --lr 0.05 : -np 1 " + distsgd_binary() + common + " --lr 0.1");
  expect_clear_failure(run, 2, "rank 1 was started with --lr 0.1, rank 0 with --lr 0.05");
}

// Flags and configurations that cannot run: `distsgd <args>` on `ranks` ranks
// (0: without mpirun) exits with `exit_code` and says `message`. Every case
// runs with --quiet and a log directory of its own.
struct BadFlags {
  const char* name;
  int ranks;
  std::string args;
  int exit_code;
  std::string message;
};

const BadFlags kBadFlags[] = {
    // Flags and values.
    {"UnknownFlag", 2, "train --no-such-flag 3", 2, "--no-such-flag"},
    {"UnknownAlgorithm", 2, "train --algo nope", 2, "unknown --algo 'nope'"},
    {"UnknownModel", 2, "train --model nope", 2, "unknown model 'nope'"},
    {"UnknownDataset", 2, "train --dataset nope", 2, "unknown data set 'nope'"},
    {"MissingDataDirectory", 2, "train --dataset mnist-idx --data-dir /nonexistent/dir", 2,
     "/nonexistent/dir"},
    {"ZeroEpochs", 0, "train --epochs 0", 2, "--epochs"},
    {"MomentumAboveOne", 2, "train --momentum 1.5", 2, "--momentum"},
    {"BatchLargerThanTheShard", 2, "train --batch-size 40000", 2, "--batch-size 40000"},
    // Devices: the build has no usable GPU (CI and this machine have none).
    {"UnknownDevice", 2, "train --device tpu", 2, "--device must be cpu, cuda, cuda:K"},
    {"CudaWithoutAGpu", 2, "train --device cuda", 2, "--device cuda: no GPU is usable"},
    // Fault injection and handling.
    {"UnknownNanPolicy", 0, "train --nan-policy ignore", 2, "--nan-policy"},
    {"NegativeStallWarning", 0, "train --stall-warn-s -1", 2, "--stall-warn-s"},
    {"MalformedInjectNan", 0, "train --inject-nan 1:x", 2, "--inject-nan"},
    // Parameter servers.
    {"ParameterServerOnOneRank", 0, "train --algo asgd", 2, "at least 2 ranks"},
    {"AsManyServersAsRanks", 2, "train --algo easgd --servers 2", 2,
     "--servers 2 must be between 1 and the number of ranks minus one (1)"},
    {"ZeroTau", 2, "train --algo easgd --tau 0", 2, "--tau must be at least 1"},
    {"EasgdBetaAboveOne", 2, "train --algo easgd --easgd-beta 1.5", 2,
     "--easgd-beta must be in (0, 1]"},
    {"EasgdBetaZero", 2, "train --algo easgd --easgd-beta 0", 2, "--easgd-beta must be in (0, 1]"},
    {"NegativeMaxStaleness", 2, "train --algo asgd --max-staleness -1", 2,
     "--max-staleness must be >= 0"},
    {"LeaveEarlyWithAllreduce", 2, "train --algo allreduce --leave-early 1:5", 2,
     "--leave-early needs an asynchronous method"},
    {"LeaveEarlyNamingTheServer", 3, "train --algo asgd --leave-early 2:5", 2,
     "--leave-early names rank 2, but the workers are ranks 0-1"},
    {"MalformedStraggler", 2, "train --straggler 1x4", 2, "--straggler must be RANK:VALUE"},
    {"StragglerFactorBelowOne", 2, "train --straggler 1:0.5", 2, "--straggler factor must be >= 1"},
    // Gossip.
    {"GossipOnOneRank", 0, "train --algo gossip-pull", 2, "needs at least 2 ranks"},
    {"AsManyGossipPeersAsRanks", 2, "train --algo gossip-push --gossip-peers 2", 2,
     "--gossip-peers 2 must be less than the number of ranks (2)"},
    {"UnknownTopology", 2, "train --algo gossip-pull --topology star", 2,
     "unknown --topology 'star'"},
    {"UnknownPushMode", 2, "train --algo gossip-push --push-mode both", 2,
     "--push-mode must be sum or average"},
    {"GossipMomentumWithoutMomentum", 2, "train --algo gossip-pull --gossip-momentum --momentum 0",
     2, "--gossip-momentum needs --momentum > 0"},
};

void PrintTo(const BadFlags& c, std::ostream* out) {
  *out << (c.ranks == 0 ? std::string() : fmt::format("mpirun -np {} ", c.ranks)) << "distsgd "
       << c.args;
}

class BadFlagsTest : public ::testing::TestWithParam<BadFlags> {};

TEST_P(BadFlagsTest, ExitWithAClearMessage) {
  const auto& c = GetParam();
  const auto run = run_bad(c.ranks, c.args + " --quiet --log-dir " + make_temp_dir(c.name));
  expect_clear_failure(run, c.exit_code, c.message);
}

INSTANTIATE_TEST_SUITE_P(BadInput, BadFlagsTest, ::testing::ValuesIn(kBadFlags),
                         [](const ::testing::TestParamInfo<BadFlags>& info) {
                           const int ranks = info.param.ranks;
                           return ranks == 0 ? fmt::format("{}_NoMpirun", info.param.name)
                                             : fmt::format("{}_{}Ranks", info.param.name, ranks);
                         });

}  // namespace
}  // namespace distsgd::testing
