// Bad files and bad flags: a clear message naming what is wrong, a non-zero
// exit, and no hang (each within 30 s), also under mpirun with several ranks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "e2e_util.hpp"

namespace distsgd::testing {
namespace {

void expect_clear_failure(const CommandResult& run, int code, const std::string& message) {
  EXPECT_EQ(run.exit_code, code) << run.output;
  EXPECT_LT(run.seconds, 30.0) << run.output;
  EXPECT_NE(run.output.find(message), std::string::npos)
      << "expected '" << message << "' in:\n" << run.output;
}

// A copy of Fashion-MNIST with one file replaced by `content`.
std::string broken_dataset(const std::string& name, const std::string& file, const std::string& content) {
  const auto dir = make_temp_dir(name);
  for (const auto& entry : std::filesystem::directory_iterator("/usr/share/datasets/fashion-mnist"))
    std::filesystem::copy(entry.path(), dir + "/" + entry.path().filename().string());
  std::ofstream(dir + "/" + file, std::ios::binary | std::ios::trunc) << content;
  return dir;
}

TEST(BadInput, TruncatedImageFileOnFourRanks) {
  const auto data = broken_dataset("truncated", "train-images-idx3-ubyte.gz", "\x1f\x8b\x08");
  const auto run = run_distsgd(4, "train --dataset mnist-idx --data-dir " + data + " --quiet --log-dir " +
                                      make_temp_dir("log"));
  expect_clear_failure(run, 2, "train-images-idx3-ubyte.gz");
}

TEST(BadInput, LabelFileWithWrongMagicOnTwoRanks) {
  std::string labels("\x00\x00\x08\x03\x00\x00\x00\x02\x01\x02", 10);
  const auto data = broken_dataset("magic", "t10k-labels-idx1-ubyte.gz", labels);
  // Not gzipped: the reader takes raw files too, and must reject the magic.
  const auto run = run_distsgd(2, "train --dataset mnist-idx --data-dir " + data + " --quiet --log-dir " +
                                      make_temp_dir("log"));
  expect_clear_failure(run, 2, "t10k-labels-idx1-ubyte.gz");
}

TEST(BadInput, MissingDataDirectory) {
  const auto run = run_distsgd(2, "train --dataset mnist-idx --data-dir /nonexistent/dir --quiet");
  expect_clear_failure(run, 2, "/nonexistent/dir");
}

TEST(BadInput, UnknownFlag) {
  expect_clear_failure(run_distsgd(2, "train --no-such-flag 3"), 2, "--no-such-flag");
}

TEST(BadInput, UnknownAlgorithmModelAndDataset) {
  expect_clear_failure(run_distsgd(2, "train --algo nope --quiet --log-dir " + make_temp_dir("a")), 2,
                       "unknown --algo 'nope'");
  expect_clear_failure(run_distsgd(2, "train --model nope --quiet --log-dir " + make_temp_dir("m")), 2,
                       "nope");
  expect_clear_failure(run_distsgd(2, "train --dataset nope --quiet --log-dir " + make_temp_dir("d")),
                       2, "nope");
}

TEST(BadInput, ImpossibleValues) {
  expect_clear_failure(run_distsgd(0, "train --epochs 0"), 2, "--epochs");
  expect_clear_failure(run_distsgd(2, "train --momentum 1.5"), 2, "--momentum");
  expect_clear_failure(run_distsgd(2, "train --batch-size 40000 --quiet --log-dir " + make_temp_dir("b")),
                       2, "--batch-size 40000");
}

TEST(BadInput, CorruptCheckpointOnResume) {
  const auto dir = make_temp_dir("ckpt");
  std::ofstream(dir + "/bad.ckpt", std::ios::binary) << "DSGDCKPT\x01\x00\x00\x00garbage";
  expect_clear_failure(
      run_distsgd(2, "train --quiet --resume " + dir + "/bad.ckpt --log-dir " + dir), 2, "bad.ckpt");
}

// One rank started with another flag (mpirun's MPMD syntax): that rank names
// the flag and both values, and the job ends.
TEST(BadInput, RanksStartedWithDifferentFlags) {
  const auto log = make_temp_dir("mismatch");
  const std::string common = " train --model mlp --max-steps 20 --quiet --log-dir " + log;
  const auto run = run_distsgd(
      1, common + " --lr 0.05 : -np 1 " + std::string(DISTSGD_BINARY) + common + " --lr 0.1");
  expect_clear_failure(run, 2, "rank 1 was started with --lr 0.1, rank 0 with --lr 0.05");
}

TEST(BadInput, FaultFlags) {
  expect_clear_failure(run_distsgd(0, "train --nan-policy ignore"), 2, "--nan-policy");
  expect_clear_failure(run_distsgd(0, "train --stall-warn-s -1"), 2, "--stall-warn-s");
  expect_clear_failure(run_distsgd(0, "train --inject-nan 1:x"), 2, "--inject-nan");
}

}  // namespace
}  // namespace distsgd::testing

namespace distsgd::testing {
namespace {

TEST(BadInput, ParameterServerConfigurations) {
  const auto log = " --quiet --log-dir " + make_temp_dir("ps-bad");
  expect_clear_failure(run_distsgd(0, "train --algo asgd" + log), 2, "at least 2 ranks");
  expect_clear_failure(run_distsgd(2, "train --algo easgd --servers 2" + log), 2,
                       "--servers 2 must be between 1 and the number of ranks minus one (1)");
  expect_clear_failure(run_distsgd(2, "train --algo easgd --tau 0" + log), 2, "--tau must be at least 1");
  expect_clear_failure(run_distsgd(2, "train --algo easgd --easgd-beta 1.5" + log), 2,
                       "--easgd-beta must be in (0, 1]");
  expect_clear_failure(run_distsgd(2, "train --algo easgd --easgd-beta 0" + log), 2,
                       "--easgd-beta must be in (0, 1]");
  expect_clear_failure(run_distsgd(2, "train --algo asgd --max-staleness -1" + log), 2,
                       "--max-staleness must be >= 0");
  expect_clear_failure(run_distsgd(2, "train --algo allreduce --leave-early 1:5" + log), 2,
                       "--leave-early needs an asynchronous method");
  expect_clear_failure(run_distsgd(3, "train --algo asgd --leave-early 2:5" + log), 2,
                       "--leave-early names rank 2, but the workers are ranks 0-1");
  expect_clear_failure(run_distsgd(2, "train --straggler 1x4" + log), 2, "--straggler must be RANK:VALUE");
  expect_clear_failure(run_distsgd(2, "train --straggler 1:0.5" + log), 2, "--straggler factor must be >= 1");
}

}  // namespace
}  // namespace distsgd::testing

namespace distsgd::testing {
namespace {

TEST(BadInput, GossipConfigurations) {
  const auto log = " --quiet --log-dir " + make_temp_dir("gossip-bad");
  expect_clear_failure(run_distsgd(0, "train --algo gossip-pull" + log), 2, "needs at least 2 ranks");
  expect_clear_failure(run_distsgd(2, "train --algo gossip-push --gossip-peers 2" + log), 2,
                       "--gossip-peers 2 must be less than the number of ranks (2)");
  expect_clear_failure(run_distsgd(2, "train --algo gossip-pull --topology star" + log), 2,
                       "unknown --topology 'star'");
  expect_clear_failure(run_distsgd(2, "train --algo gossip-push --push-mode both" + log), 2,
                       "--push-mode must be sum or average");
  expect_clear_failure(run_distsgd(2, "train --algo gossip-pull --gossip-momentum --momentum 0" + log), 2,
                       "--gossip-momentum needs --momentum > 0");
}

}  // namespace
}  // namespace distsgd::testing
