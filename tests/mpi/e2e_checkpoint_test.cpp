// Checkpoints of the asynchronous methods (ASGD, EASGD, gossip) as a user
// takes them: real mpirun jobs on Fashion-MNIST, stopped after an epoch or by
// SIGTERM, then resumed from the manifest of a checkpoint in parts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "methods/update_math.hpp"
#include "e2e_summary.hpp"
#include "train/checkpoint.hpp"

namespace distsgd::testing {
namespace {

namespace fs = std::filesystem;

std::vector<float> final_params(const std::string& dir) {
  return read_checkpoint(dir + "/final.ckpt").tensors.at("params");
}

// Runs in `dir` (which it keeps), expecting exit code 0.
nlohmann::json run_in(int ranks, const std::string& args, const std::string& dir) {
  const auto run = run_distsgd(ranks, args + " --quiet --log-dir " + dir, 300);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  if (run.exit_code != 0) return nlohmann::json::object();
  return read_json(dir + "/summary.json");
}

// The steps of the step records in a metrics file, in order.
std::vector<int64_t> steps_recorded(const std::string& path) {
  std::ifstream in(path);
  std::vector<int64_t> steps;
  for (std::string line; std::getline(in, line);) {
    const auto record = nlohmann::json::parse(line);
    if (record.at("type") == "step") steps.push_back(record.at("step").get<int64_t>());
  }
  return steps;
}

std::vector<std::string> names_in(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

const std::string kMlp =
    "train --model mlp --batch-size 128 --lr 0.05 --seed 5 --eval-samples 2000 ";

// With one worker the server sees one stream of requests, so ASGD and EASGD are
// deterministic: a run stopped after epoch 1 and resumed from its manifest ends
// with exactly the parameters of an uninterrupted run. That needs the server's
// shard, momentum and version and the worker's replica and momentum back.
void expect_exact_resume(const std::string& algo, const std::string& flags, int workers = 1) {
  const std::string args = kMlp + "--momentum 0.9 --epochs 2 --algo " + algo + " " + flags + " ";
  const auto whole = make_temp_dir(algo + "-whole");
  const auto parts = make_temp_dir(algo + "-parts");
  const auto a = run_in(2, args, whole);
  const auto stopped = run_in(2, args + "--stop-after-epoch 1", parts);
  const auto manifest = parts + "/checkpoint-epoch1.ckpt";
  const auto b = run_in(2, args + "--resume " + manifest, parts);
  ASSERT_FALSE(a.empty() || stopped.empty() || b.empty());
  EXPECT_TRUE(stopped.at("stopped_early").get<bool>());
  EXPECT_TRUE(stopped.at("checkpoints").get<bool>());
  const int64_t per_epoch = 60000 / workers / 128;
  EXPECT_EQ(stopped.at("steps"), per_epoch);
  EXPECT_EQ(a.at("steps"), 2 * per_epoch);
  EXPECT_EQ(b.at("steps"), 2 * per_epoch);
  // The resumed run started from the saved step.
  const auto steps = steps_recorded(parts + "/metrics.rank0.jsonl");
  ASSERT_EQ(steps.size(), static_cast<std::size_t>(2 * per_epoch));
  EXPECT_EQ(steps[per_epoch], per_epoch + 1);
  EXPECT_EQ(a.at("final_test_accuracy"), b.at("final_test_accuracy"));
  const auto params_a = final_params(whole), params_b = final_params(parts);
  ASSERT_EQ(params_a.size(), 269322u);
  EXPECT_TRUE(params_a == params_b)
      << "max difference " << math::max_abs_difference(params_a, params_b);
}

TEST(AsyncCheckpoints, AsgdOneWorkerResumesExactly) { expect_exact_resume("asgd", ""); }
TEST(AsyncCheckpoints, EasgdOneWorkerResumesExactly) { expect_exact_resume("easgd", "--tau 2"); }
// Local SGD on two workers is deterministic too. 234 steps an epoch is not a
// multiple of 7: the checkpoint's average restarts the count of local steps
// in the first run as in the resumed one.
TEST(AsyncCheckpoints, LocalSgdTwoWorkersResumeExactly) {
  expect_exact_resume("local-sgd", "--local-steps 7", 2);
}

// Two ASGD workers and a server: the manifest lists three parts; resuming
// restores the server's shard exactly (a resumed run with nothing left to
// train evaluates what was saved); a resumed run continues from the saved step
// and ends about where an uninterrupted one does (asynchronous: not exactly).
TEST(AsyncCheckpoints, AsgdTwoWorkersResumeWhereTheyStopped) {
  // The plain rule: the servers' momentum is the one asked for (the default
  // rule would take 0.5 as the effective momentum of 2 workers: 0 explicit,
  // no momentum buffer to save).
  const std::string args = kMlp + "--algo asgd --asgd-rule plain --momentum 0.5 ";
  const auto whole = make_temp_dir("asgd2-whole");
  const auto parts = make_temp_dir("asgd2-parts");
  const auto again = make_temp_dir("asgd2-again");
  const auto a = run_in(3, args + "--epochs 2", whole);
  const auto stopped = run_in(3, args + "--epochs 2 --stop-after-epoch 1", parts);
  const auto manifest_path = parts + "/checkpoint-epoch1.ckpt";
  // Nothing left to train: the final evaluation scores the restored shard.
  const auto same = run_in(3, args + "--epochs 1 --resume " + manifest_path, again);
  const auto b = run_in(3, args + "--epochs 2 --resume " + manifest_path, parts);
  // On another node count: refused, naming both counts.
  const auto other =
      run_distsgd(2, args + "--epochs 2 --quiet --log-dir " + again + " --resume " + manifest_path);
  ASSERT_FALSE(a.empty() || stopped.empty() || same.empty() || b.empty());

  const int64_t per_epoch = 60000 / 2 / 128;
  const auto manifest = read_checkpoint(manifest_path);
  EXPECT_TRUE(manifest.tensors.empty());
  EXPECT_EQ(manifest.meta.at("nodes"), 3);
  EXPECT_EQ(manifest.meta.at("step"), per_epoch);
  ASSERT_EQ(manifest.meta.at("parts").size(), 3u);
  EXPECT_EQ(manifest.meta.at("parts")[2].at("role"), "server");
  EXPECT_EQ(manifest.meta.at("parts")[1].at("step"), per_epoch);
  const auto server = read_checkpoint(parts + "/checkpoint-epoch1.rank2.ckpt");
  const auto& shard = server.tensors.at("server.shard");
  EXPECT_EQ(server.tensors.at("server.momentum").size(), shard.size());
  // Two workers, one update each per step.
  EXPECT_EQ(server.meta.at("method").at("version"), 2 * per_epoch);

  EXPECT_EQ(same.at("steps"), per_epoch);
  EXPECT_TRUE(final_params(again) == shard) << "the restored shard is not the saved one";
  EXPECT_EQ(same.at("final_test_accuracy"), stopped.at("final_test_accuracy"));

  EXPECT_EQ(b.at("steps"), 2 * per_epoch);
  EXPECT_EQ(b.at("worker_steps"), (nlohmann::json{2 * per_epoch, 2 * per_epoch}));
  const auto steps = steps_recorded(parts + "/metrics.rank1.jsonl");
  ASSERT_EQ(steps.size(), static_cast<std::size_t>(2 * per_epoch));
  EXPECT_EQ(steps[per_epoch], per_epoch + 1);
  // A second epoch on top of the first: better than after one, and within a
  // few points of the uninterrupted run (these reach about 0.84 here).
  EXPECT_GT(b.at("final_test_accuracy").get<double>(),
            stopped.at("final_test_accuracy").get<double>());
  EXPECT_NEAR(b.at("final_test_accuracy").get<double>(), a.at("final_test_accuracy").get<double>(),
              0.03);

  EXPECT_EQ(other.exit_code, 2) << other.output;
  EXPECT_NE(other.output.find("made on 3 ranks resumes on 3 ranks only"), std::string::npos)
      << other.output;
}

// Gossip (push-sum) on two nodes: keeps the last two checkpoints (manifests
// and parts); resumes with its push-sum weights; a truncated part stops the
// resume with exit code 2, naming the part and the previous good checkpoint.
TEST(AsyncCheckpoints, GossipPushKeepsTwoResumesAndNamesADamagedPart) {
  const std::string args =
      "train --model mlp --batch-size 256 --lr 0.05 --momentum 0.9 --seed 5 "
      "--eval-samples 2000 --algo gossip-push ";
  const auto whole = make_temp_dir("gossip-whole");
  const auto parts = make_temp_dir("gossip-parts");
  const auto a = run_in(2, args + "--epochs 3", whole);
  const auto stopped = run_in(2, args + "--epochs 3 --stop-after-epoch 2", parts);
  const auto b =
      run_in(2, args + "--epochs 3 --resume " + parts + "/checkpoint-epoch2.ckpt", parts);
  // Damage a part of the newest checkpoint of the uninterrupted run.
  fs::resize_file(whole + "/checkpoint-epoch3.rank1.ckpt", 1000);
  const auto damaged = run_distsgd(2, args + "--epochs 4 --quiet --log-dir " + whole +
                                          " --resume " + whole + "/checkpoint-epoch3.ckpt");
  ASSERT_FALSE(a.empty() || stopped.empty() || b.empty());

  EXPECT_EQ(
      names_in(whole, "checkpoint-"),
      (std::vector<std::string>{"checkpoint-epoch2.ckpt", "checkpoint-epoch2.rank0.ckpt",
                                "checkpoint-epoch2.rank1.ckpt", "checkpoint-epoch3.ckpt",
                                "checkpoint-epoch3.rank0.ckpt", "checkpoint-epoch3.rank1.ckpt"}));
  const int64_t per_epoch = 60000 / 2 / 256;
  const auto part = read_checkpoint(parts + "/checkpoint-epoch2.rank0.ckpt");
  EXPECT_EQ(part.meta.at("step"), 2 * per_epoch);
  // Settled push-sum: the weights add up to the number of nodes.
  const double w0 = part.meta.at("method").at("weight").get<double>();
  const double w1 = read_checkpoint(parts + "/checkpoint-epoch2.rank1.ckpt")
                        .meta.at("method")
                        .at("weight")
                        .get<double>();
  EXPECT_NEAR(w0 + w1, 2.0, 1e-9);
  EXPECT_EQ(b.at("steps"), 3 * per_epoch);
  EXPECT_NEAR(b.at("method").at("push_sum_total_weight").get<double>(), 2.0, 1e-6);
  const auto steps = steps_recorded(parts + "/metrics.rank0.jsonl");
  ASSERT_EQ(steps.size(), static_cast<std::size_t>(3 * per_epoch));
  EXPECT_EQ(steps[2 * per_epoch], 2 * per_epoch + 1);
  EXPECT_NEAR(b.at("final_test_accuracy").get<double>(), a.at("final_test_accuracy").get<double>(),
              0.03);

  EXPECT_EQ(damaged.exit_code, 2) << damaged.output;
  EXPECT_NE(damaged.output.find("checkpoint-epoch3.rank1.ckpt: truncated checkpoint"),
            std::string::npos)
      << damaged.output;
  EXPECT_NE(
      damaged.output.find("the previous good checkpoint is " + whole + "/checkpoint-epoch2.ckpt"),
      std::string::npos)
      << damaged.output;
}

// SIGTERM to an ASGD job: the workers stop, finish, and every rank writes its
// part of checkpoint-stepN.ckpt (N: worker 0's step) before the final
// evaluation; the run resumes from it.
TEST(AsyncCheckpoints, SigtermWritesAStepCheckpointThatResumes) {
  const std::string args = kMlp + "--momentum 0.5 --algo asgd --epochs 50 ";
  const auto dir = make_temp_dir("asgd-sigterm");
  // mpirun forwards SIGTERM to every rank, as a scheduler's preemption does.
  const auto run = run_shell("sh -c 'OPENBLAS_NUM_THREADS=1 " + mpi_launcher() + " -np 3 " +
                                 distsgd_binary() + " " + args + "--quiet --log-dir " + dir +
                                 " 2>&1 & pid=$!; sleep 6; kill -TERM $pid; wait $pid'",
                             120);
  nlohmann::json summary = nlohmann::json::object();
  if (fs::exists(dir + "/summary.json")) summary = read_json(dir + "/summary.json");
  ASSERT_TRUE(summary.contains("checkpoint")) << run.output << summary.dump();
  const auto manifest_path = summary.at("checkpoint").get<std::string>();
  const auto step = summary.at("step").get<int64_t>();
  EXPECT_EQ(summary.at("stopped_by_signal"), "SIGTERM");
  EXPECT_EQ(manifest_path, dir + "/checkpoint-step" + std::to_string(step) + ".ckpt");
  EXPECT_EQ(summary.at("worker_steps")[0].get<int64_t>(), step);
  EXPECT_NE(run.output.find("checkpoint " + manifest_path), std::string::npos) << run.output;
  const auto manifest = read_checkpoint(manifest_path);
  ASSERT_EQ(manifest.meta.at("parts").size(), 3u);
  EXPECT_EQ(manifest.meta.at("parts")[1].at("step"), summary.at("worker_steps")[1]);
  // Resume for 40 more steps of each worker.
  const auto resumed = run_in(
      3, args + "--max-steps " + std::to_string(step + 40) + " --resume " + manifest_path, dir);
  ASSERT_FALSE(resumed.empty());
  EXPECT_EQ(resumed.at("worker_steps")[0].get<int64_t>(), step + 40);
  EXPECT_GT(resumed.at("final_test_accuracy").get<double>(), 0.6);
}

}  // namespace
}  // namespace distsgd::testing
