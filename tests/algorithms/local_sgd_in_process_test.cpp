// Local SGD's driver (algorithms/local_sgd.cpp) on 16 in-process ranks, the
// trainer's hooks called directly: with one local step it is the formula
// x <- mean_r (x - lr * v_r) (each rank's momentum its own), and with no
// momentum synchronous SGD itself; after every average (and a checkpoint)
// every replica is identical; the post-local phase averages gradients.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "algorithms/local_sgd.hpp"
#include "comm/in_process_ranks.hpp"
#include "methods/update_math.hpp"

namespace distsgd {
namespace {

using testing::kRanks;
using testing::run_ranks;

constexpr std::size_t kSize = 48;
constexpr double kLr = 0.1;

// Rank r's gradient at step s: a different vector for every rank and step.
std::vector<float> gradient(int rank, int64_t step) {
  std::vector<float> g(kSize);
  for (std::size_t i = 0; i < kSize; ++i)
    g[i] = static_cast<float>(std::sin(0.3 * i + 1.7 * rank + 0.9 * static_cast<double>(step)));
  return g;
}

std::vector<float> start_vector() {
  std::vector<float> x(kSize);
  for (std::size_t i = 0; i < kSize; ++i) x[i] = static_cast<float>(0.5 + 0.01 * i);
  return x;
}

struct Worker {
  std::vector<float> params = start_vector(), grads = std::vector<float>(kSize);
  std::vector<float> buffers = std::vector<float>(4, 0.0f);
  math::MomentumState momentum;
  ReplicaView view() { return {params, grads, buffers, momentum.buffer}; }
};

TrainConfig local_config(int local_steps, double momentum, int64_t post_local_after = 0) {
  TrainConfig config;
  config.algo = "local-sgd";
  config.local_steps = local_steps;
  config.post_local_after = post_local_after;
  config.momentum = momentum;
  config.timeout_s = 60;
  return config;
}

// One step as the trainer takes it: the hooks around the optimizer step.
void train_step(LocalSgd& method, Worker& worker, int rank, int64_t step, int64_t epoch,
                double momentum) {
  const StepInfo info{step, epoch, kLr};
  method.begin_step(info);
  worker.grads = gradient(rank, step);
  method.bucket_ready({0, 0, worker.grads});
  method.before_step(worker.view(), info);
  math::sgd_step(worker.params, worker.grads, worker.momentum, {momentum, 0.0, false}, kLr);
  method.after_step(worker.view(), info);
}

// The largest difference between this rank's vector and any other's (collective).
float spread(comm::Communicator& world, std::span<const float> x) {
  std::vector<float> high(x.begin(), x.end()), low(x.begin(), x.end());
  world.allreduce(high.data(), high.size(), comm::DType::f32, comm::ReduceOp::max, "max");
  world.allreduce(low.data(), low.size(), comm::DType::f32, comm::ReduceOp::min, "min");
  return math::max_abs_difference(high, low);
}

TEST(LocalSgdInProcess, OneLocalStepIsTheMeanOfEveryRanksStep) {
  for (const double momentum : {0.0, 0.9}) {
    // The formula, every rank's replica and momentum computed here in full.
    std::vector<float> expected = start_vector();
    std::vector<math::MomentumState> states(kRanks);
    for (int64_t step = 0; step < 5; ++step) {
      std::vector<float> mean(kSize, 0.0f);
      for (int r = 0; r < kRanks; ++r) {
        auto x = expected;
        math::sgd_step(x, gradient(r, step), states[static_cast<std::size_t>(r)],
                       {momentum, 0.0, false}, kLr);
        for (std::size_t i = 0; i < kSize; ++i) mean[i] += x[i];
      }
      for (auto& v : mean) v /= kRanks;
      expected = mean;
    }
    // Without momentum that is synchronous SGD: x - lr * mean gradient.
    if (momentum == 0.0) {
      std::vector<float> sync = start_vector();
      for (int64_t step = 0; step < 5; ++step)
        for (int r = 0; r < kRanks; ++r) {
          const auto g = gradient(r, step);
          for (std::size_t i = 0; i < kSize; ++i) sync[i] -= static_cast<float>(kLr * g[i] / kRanks);
        }
      EXPECT_LT(math::max_abs_difference(sync, expected), 1e-5);
    }
    run_ranks(kRanks, [&](comm::Communicator& world) {
      LocalSgd method(local_config(1, momentum), world);
      Worker worker;
      method.start(worker.view());
      for (int64_t step = 0; step < 5; ++step)
        train_step(method, worker, world.rank(), step, 0, momentum);
      EXPECT_LT(math::max_abs_difference(worker.params, expected), 1e-5) << "momentum " << momentum;
      EXPECT_EQ(method.averages(), 5);
      method.finish(worker.view());
    });
  }
}

TEST(LocalSgdInProcess, ReplicasDriftBetweenAveragesAndAreIdenticalAfterEach) {
  run_ranks(kRanks, [](comm::Communicator& world) {
    LocalSgd method(local_config(4, 0.9), world);
    Worker worker;
    method.start(worker.view());
    for (int64_t step = 0; step < 12; ++step) {
      train_step(method, worker, world.rank(), step, 0, 0.9);
      const float apart = spread(world, worker.params);
      if ((step + 1) % 4 == 0)
        EXPECT_EQ(apart, 0.0f) << "after the average of step " << step;
      else
        EXPECT_GT(apart, 1e-4f) << "step " << step << " is local";
    }
    // Momentum is each rank's own (no --average-momentum).
    EXPECT_GT(spread(world, worker.momentum.buffer), 1e-4f);
    EXPECT_EQ(method.averages(), 3);
    method.finish(worker.view());
  });
}

TEST(LocalSgdInProcess, AverageMomentumAveragesTheMomentumBuffersToo) {
  run_ranks(kRanks, [](comm::Communicator& world) {
    auto config = local_config(2, 0.9);
    config.average_momentum = true;
    LocalSgd method(config, world);
    Worker worker;
    method.start(worker.view());
    for (int64_t step = 0; step < 4; ++step) train_step(method, worker, world.rank(), step, 0, 0.9);
    EXPECT_EQ(spread(world, worker.momentum.buffer), 0.0f);
    EXPECT_EQ(spread(world, worker.params), 0.0f);
    method.finish(worker.view());
  });
}

TEST(LocalSgdInProcess, PostLocalPhaseAveragesGradientsEveryStep) {
  run_ranks(kRanks, [](comm::Communicator& world) {
    LocalSgd method(local_config(3, 0.9, 1), world);
    Worker worker;
    method.start(worker.view());
    // Epoch 0 is synchronous: identical replicas after every step.
    for (int64_t step = 0; step < 3; ++step) {
      train_step(method, worker, world.rank(), step, 0, 0.9);
      EXPECT_EQ(spread(world, worker.params), 0.0f) << "synchronous step " << step;
      EXPECT_EQ(spread(world, worker.momentum.buffer), 0.0f);
    }
    // Epoch 1 is local: apart until the third local step's average.
    train_step(method, worker, world.rank(), 3, 1, 0.9);
    EXPECT_GT(spread(world, worker.params), 1e-4f);
    train_step(method, worker, world.rank(), 4, 1, 0.9);
    train_step(method, worker, world.rank(), 5, 1, 0.9);
    EXPECT_EQ(spread(world, worker.params), 0.0f);
    EXPECT_EQ(method.averages(), 1);
    method.finish(worker.view());
  });
}

TEST(LocalSgdInProcess, EvaluationScoresTheMeanAndCheckpointsMakeReplicasWhole) {
  run_ranks(kRanks, [](comm::Communicator& world) {
    LocalSgd method(local_config(4, 0.9), world);
    Worker worker;
    method.start(worker.view());
    worker.buffers.assign(4, static_cast<float>(world.rank()));
    for (int64_t step = 0; step < 2; ++step) train_step(method, worker, world.rank(), step, 0, 0.9);
    // The evaluation target is the mean; the replica itself is left as it is.
    const auto before = worker.params;
    std::vector<float> out_params(kSize), out_buffers(4);
    const auto target = method.prepare_evaluation(
        worker.view(), ReplicaView{out_params, {}, out_buffers, {}});
    EXPECT_TRUE(target.uses_out);
    EXPECT_GT(target.figures.at("consensus_distance").get<double>(), 0.0);
    EXPECT_EQ(worker.params, before);
    std::vector<float> mean(worker.params);
    world.allreduce(mean.data(), mean.size(), comm::DType::f32, comm::ReduceOp::sum, "mean");
    math::scale(mean, 1.0f / kRanks);
    EXPECT_LT(math::max_abs_difference(out_params, mean), 1e-6);
    EXPECT_FLOAT_EQ(out_buffers[0], (kRanks - 1) / 2.0f);
    // A checkpoint makes models, momentum and statistics whole, and the
    // count of local steps starts again: 4 more local steps to the next average.
    ASSERT_TRUE(method.checkpoints()->prepare(worker.view(), 0, 2).has_value());
    EXPECT_EQ(spread(world, worker.params), 0.0f);
    EXPECT_EQ(spread(world, worker.momentum.buffer), 0.0f);
    EXPECT_EQ(spread(world, worker.buffers), 0.0f);
    for (int64_t step = 2; step < 5; ++step) train_step(method, worker, world.rank(), step, 0, 0.9);
    EXPECT_GT(spread(world, worker.params), 1e-4f);
    train_step(method, worker, world.rank(), 5, 0, 0.9);
    EXPECT_EQ(spread(world, worker.params), 0.0f);
    method.finish(worker.view());
  });
}

}  // namespace
}  // namespace distsgd
