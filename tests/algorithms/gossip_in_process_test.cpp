// Gossip's mixing on 16 in-process ranks (tests/mpi/gossip_mixing_test.cpp
// runs the same checks under mpirun with 2 and 4): with the learning rate at 0
// and the hooks called directly, push-sum reaches the exact mean and keeps the
// total weight, and pull averaging reaches consensus geometrically, each node
// with its communication thread answering peers as in a real run.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "algorithms/gossip.hpp"
#include "methods/update_math.hpp"
#include "comm/in_process_ranks.hpp"

namespace distsgd {
namespace {

using testing::kRanks;
using testing::run_ranks;

constexpr std::size_t kSize = 64;

TrainConfig gossip_config(const std::string& topology) {
  TrainConfig config;
  config.topology = topology;
  config.seed = 3;
  config.timeout_s = 60;
  return config;
}

std::vector<float> start_vector(int rank) {
  std::vector<float> x(kSize);
  for (std::size_t i = 0; i < kSize; ++i)
    x[i] = static_cast<float>((rank + 1) * 0.5 + 0.25 * std::sin(i * 0.1 + rank));
  return x;
}

// Mean over ranks of ||x_i - mean||^2 / ||mean||^2 (collective).
double consensus(comm::Communicator& world, std::span<const float> x) {
  std::vector<float> mean(x.begin(), x.end());
  world.allreduce(mean.data(), mean.size(), comm::DType::f32, comm::ReduceOp::sum, "test mean");
  math::scale(mean, 1.0f / static_cast<float>(world.size()));
  double distance = math::relative_squared_distance(x, mean);
  world.allreduce(&distance, 1, comm::DType::f64, comm::ReduceOp::sum, "test distance");
  return distance / world.size();
}

struct Replica {
  std::vector<float> params = std::vector<float>(kSize), grads = std::vector<float>(kSize);
  std::vector<float> buffers;
  ReplicaView view() { return {params, grads, buffers, {}}; }
};

TEST(GossipInProcess, PushSumReachesTheExactMeanAndKeepsTheTotalWeight) {
  std::vector<double> expected(kSize);
  for (int r = 0; r < kRanks; ++r) {
    const auto x = start_vector(r);
    for (std::size_t i = 0; i < kSize; ++i) expected[i] += x[i] / kRanks;
  }
  // A ring of 16 mixes slowly (its spectral gap shrinks as 1/n^2): 0.98 a round.
  for (const auto& [topology, rounds] :
       {std::pair{"random", 60}, {"exponential", 60}, {"ring", 1000}}) {
    run_ranks(kRanks, [&](comm::Communicator& world) {
      GossipSgd gossip(gossip::Mode::push_sum, gossip_config(topology), world);
      Replica replica;
      gossip.start(replica.view());
      replica.params = start_vector(world.rank());  // after start, which shares rank 0's
      for (int round = 0; round < rounds; ++round) {
        gossip.after_step(replica.view(), {round, 0, 0.0});
        gossip.settle(replica.view());
        double total = gossip.weight();
        world.allreduce(&total, 1, comm::DType::f64, comm::ReduceOp::sum, "total weight");
        EXPECT_NEAR(total, kRanks, 1e-12) << topology << " round " << round;
      }
      // Values of order 1: 1e-5 is some 80 float steps, room for the rounding of
      // 60 rounds of scaling by w and back (and as much again every 60 rounds).
      const double tolerance = 1e-5 * std::max(1.0, rounds / 60.0);
      double worst = 0;
      for (std::size_t i = 0; i < kSize; ++i)
        worst = std::max(worst, std::fabs(replica.params[i] - expected[i]));
      EXPECT_LT(worst, tolerance) << topology << ": the furthest element from the mean";
      gossip.finish(replica.view());
    });
  }
}

TEST(GossipInProcess, PullAveragingReachesConsensusGeometrically) {
  run_ranks(kRanks, [](comm::Communicator& world) {
    GossipSgd gossip(gossip::Mode::pull, gossip_config("random"), world);
    Replica replica;
    gossip.start(replica.view());
    replica.params = start_vector(world.rank());
    gossip.after_step(replica.view(), {0, 0, 0.0});  // publishes the start vector
    std::vector<double> history = {consensus(world, replica.params)};
    for (int round = 1; round <= 40; ++round) {
      gossip.after_step(replica.view(), {round, 0, 0.0});
      if (round % 10 == 0) history.push_back(consensus(world, replica.params));
    }
    EXPECT_GT(history.front(), 1e-3);
    for (std::size_t k = 1; k < history.size(); ++k)
      EXPECT_TRUE(history[k] < history[k - 1] * 0.5 || history[k] < 1e-12)
          << "after " << 10 * k << " more rounds: " << history[k] << " vs " << history[k - 1];
    gossip.finish(replica.view());
  });
}

// gossip-pga: after each global average every replica is the same exact
// mean (push-sum: of the whole mass, pushes in flight included), and every
// push-sum weight is 1 again; in between, gossip lets them drift.
TEST(GossipInProcess, PgaGlobalAverageMakesEveryReplicaTheExactMean) {
  for (const auto mode : {gossip::Mode::pull, gossip::Mode::push_sum}) {
    std::vector<double> expected(kSize);
    for (int r = 0; r < kRanks; ++r) {
      const auto x = start_vector(r);
      for (std::size_t i = 0; i < kSize; ++i) expected[i] += x[i] / kRanks;
    }
    run_ranks(kRanks, [&](comm::Communicator& world) {
      auto config = gossip_config("random");
      config.algo = "gossip-pga";
      config.global_every = 4;
      GossipSgd gossip(mode, config, world);
      EXPECT_EQ(gossip.traits().name, "gossip-pga");
      Replica replica;
      gossip.start(replica.view());
      replica.params = start_vector(world.rank());
      for (int64_t step = 0; step < 8; ++step) {
        // The learning rate is 0: gossip alone moves the replicas, and a step's
        // gradient never changes the mean (push-sum's mass is conserved).
        gossip.after_step(replica.view(), {step, 0, 0.0});
        std::vector<float> high(replica.params), low(replica.params);
        world.allreduce(high.data(), kSize, comm::DType::f32, comm::ReduceOp::max, "max");
        world.allreduce(low.data(), kSize, comm::DType::f32, comm::ReduceOp::min, "min");
        const float apart = math::max_abs_difference(high, low);
        if ((step + 1) % 4 == 0) {
          EXPECT_EQ(apart, 0.0f) << "after the global average of step " << step;
          EXPECT_EQ(gossip.weight(), 1.0);
          // Push-sum conserves the mass, so the mean is the start vectors';
          // pull averaging does not (it is not symmetric).
          if (mode == gossip::Mode::push_sum) {
            double worst = 0;
            for (std::size_t i = 0; i < kSize; ++i)
              worst = std::max(worst, std::fabs(replica.params[i] - expected[i]));
            EXPECT_LT(worst, 1e-5) << "the furthest element from the exact mean";
          }
        } else if (step == 0) {
          EXPECT_GT(apart, 1e-3f) << "one gossip round does not reach consensus";
        }
      }
      gossip.finish(replica.view());
      EXPECT_EQ(gossip.summary().at("global_averages_rank0").get<int64_t>(), 2);
    });
  }
}

// --survive-worker-loss with a node that goes silent as a killed rank does
// (its communication thread stops: pushes to it stay untaken, pulls from it
// unanswered, rank 0 hears no heartbeat). The survivors must stop choosing it,
// agree that rank 1 alone is lost, move to a communicator of the three of them
// and reach consensus there; push-sum's weight must be accounted for.
void survive_a_silent_node(gossip::Mode mode) {
  constexpr int kNodes = 4, kSilent = 1;
  std::atomic<double> silent_weight{0.0};
  std::atomic<int> survivors_done{0};
  run_ranks(kNodes, [&](comm::Communicator& world) {
    TrainConfig config = gossip_config("random");
    config.survive_worker_loss = true;
    // The silence that means lost: short, for the test, but long enough that a
    // live node's heartbeats (every 0.75 s here) are never that late on a
    // loaded machine.
    config.timeout_s = 3.0;
    GossipSgd gossip(mode, config, world);
    EXPECT_EQ(gossip.checkpoints(), nullptr) << "nodes that may be lost cannot checkpoint";
    Replica replica;
    gossip.start(replica.view());
    replica.params = start_vector(world.rank());
    int64_t step = 0;
    for (; step < 20; ++step) gossip.after_step(replica.view(), {step, 0, 0.0});
    gossip.settle(replica.view());  // nothing in flight: the silent node's weight is its own
    if (world.rank() == kSilent) {
      silent_weight = gossip.weight();
      gossip.vanish();
    }
    // Nobody pushes again before the silent node has stopped taking pushes in
    // (else a push would be lost in its inbox, uncounted).
    world.barrier("the silent node is gone");
    if (world.rank() == kSilent) {
      // Stays silent (its requests and buffers alive) until the others are
      // done, or have failed (then their errors fail the test).
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (survivors_done < kNodes - 1 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return;
    }
    // Counted however this survivor ends (a failed expectation throws nothing,
    // but a communication error does).
    struct Done {
      std::atomic<int>& count;
      ~Done() { ++count; }
    } done{survivors_done};
    // Train on well past the deadline, so that pushes to and pulls from the
    // silent node have been given up. The survivors keep in step (a barrier
    // of their own each round), as nodes computing real steps do: a thread
    // that ran thousands of push-sum rounds ahead of the others would halve
    // its weight each time with nothing coming back, down to zero.
    // They also agree when to stop (rank 0's clock), so that none is left
    // waiting in a round the others have not joined.
    auto pace = world.subset({0, 2, 3}, "the survivors' pace");
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(4500);
    for (int64_t more = 1; more > 0;) {
      gossip.after_step(replica.view(), {step++, 0, 0.0});
      more = std::chrono::steady_clock::now() < until || step < 200;
      pace.broadcast(&more, sizeof more, 0, "another round");
    }
    const auto end = gossip.finish(replica.view());
    EXPECT_EQ(end.lost_ranks, (std::vector<int>{kSilent}));
    EXPECT_EQ(world.size(), kNodes - 1) << "not on the survivors' communicator";
    // The survivors' own collective: consensus among them, and the weight.
    double weight = gossip.weight(), lost = 0.0;
    const auto summary = gossip.summary();
    world.allreduce(&weight, 1, comm::DType::f64, comm::ReduceOp::sum, "survivors' weight");
    if (mode == gossip::Mode::push_sum) {
      lost = summary.at("push_sum_weight_lost_in_pushes").get<double>();
      EXPECT_GT(lost, 0.0) << "no push to the silent node was given up";
      EXPECT_NEAR(weight + silent_weight + lost, kNodes, 1e-9);
    }
    EXPECT_LT(consensus(world, replica.params), 1e-8);
  });
}

TEST(GossipInProcess, PushSumSurvivorsAgreeOnASilentNodeAndFinishWithoutIt) {
  survive_a_silent_node(gossip::Mode::push_sum);
}

TEST(GossipInProcess, PullSurvivorsAgreeOnASilentNodeAndFinishWithoutIt) {
  survive_a_silent_node(gossip::Mode::pull);
}

}  // namespace
}  // namespace distsgd
