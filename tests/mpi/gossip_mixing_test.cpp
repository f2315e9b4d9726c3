// Gossip's mixing on real ranks, with the learning rate at 0 (the hooks are
// called directly, with no trainer): replicas that start apart reach
// consensus, push-sum reaches the exact mean with the total weight kept, and a
// pulled vector is never half-updated. Run under mpirun with 2 and 4 ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "algorithms/gossip.hpp"
#include "methods/update_math.hpp"
#include "mpi_test_env.hpp"

namespace distsgd {
namespace {

using testing::world;

// Every test here must reach finish() on every rank (no ASSERT before it), or
// the others wait for its end-of-run notice; a short deadline bounds that wait.
struct ShortDeadline {
  ShortDeadline() { world().set_timeout(std::chrono::seconds(60)); }
  ~ShortDeadline() { world().set_timeout(std::chrono::seconds(300)); }
};

TrainConfig gossip_config(const std::string& topology) {
  TrainConfig config;
  config.topology = topology;
  config.seed = 3;
  config.timeout_s = 60;
  return config;
}

// A per-rank starting vector, far from the others.
std::vector<float> start_vector(int rank, std::size_t size) {
  std::vector<float> x(size);
  for (std::size_t i = 0; i < size; ++i)
    x[i] = static_cast<float>((rank + 1) * 0.5 + 0.25 * std::sin(i * 0.1 + rank));
  return x;
}

// Mean over ranks of ||x_i - mean||^2 / ||mean||^2 (collective).
double consensus(std::span<const float> x) {
  std::vector<float> mean(x.begin(), x.end());
  world().allreduce(mean.data(), mean.size(), comm::DType::f32, comm::ReduceOp::sum, "test mean");
  math::scale(mean, 1.0f / static_cast<float>(world().size()));
  double distance = math::relative_squared_distance(x, mean);
  world().allreduce(&distance, 1, comm::DType::f64, comm::ReduceOp::sum, "test distance");
  return distance / world().size();
}

struct Replica {
  std::vector<float> params, grads, buffers;
  ReplicaView view() { return {params, grads, buffers, {}}; }
};

TEST(GossipMixing, PushSumReachesTheExactMeanAndKeepsTheTotalWeight) {
  if (world().size() < 2) GTEST_SKIP() << "gossip needs 2 ranks";
  ShortDeadline deadline;
  for (const char* topology : {"random", "ring", "exponential"}) {
    GossipSgd gossip(gossip::Mode::push_sum, gossip_config(topology), world());
    Replica replica{std::vector<float>(64), std::vector<float>(64), {}};
    gossip.start(replica.view());
    replica.params = start_vector(world().rank(), 64);  // after start, which shares rank 0's
    std::vector<double> expected(64);
    for (int r = 0; r < world().size(); ++r) {
      const auto x = start_vector(r, 64);
      for (int i = 0; i < 64; ++i) expected[i] += x[i] / world().size();
    }
    double previous = consensus(replica.params);
    for (int round = 0; round < 60; ++round) {
      gossip.after_step(replica.view(), {round, 0, 0.0});
      gossip.settle(replica.view());
      double total = gossip.weight();
      world().allreduce(&total, 1, comm::DType::f64, comm::ReduceOp::sum, "total weight");
      EXPECT_NEAR(total, world().size(), 1e-12) << topology << " round " << round;
      if (round % 10 == 9) {
        const double now = consensus(replica.params);
        EXPECT_LT(now, previous * 0.5 + 1e-14) << topology << " round " << round;
        previous = now;
      }
    }
    // Values of order 1, so 1e-5 is some 80 float steps: room for the rounding of
    // 60 rounds of scaling by w and back.
    int off = 0;
    for (int i = 0; i < 64; ++i) off += std::fabs(replica.params[i] - expected[i]) > 1e-5 ? 1 : 0;
    EXPECT_EQ(off, 0) << topology << ": elements further than 1e-5 from the mean";
    gossip.finish(replica.view());
  }
}

TEST(GossipMixing, PullAveragingReachesConsensusGeometrically) {
  if (world().size() < 2) GTEST_SKIP() << "gossip needs 2 ranks";
  ShortDeadline deadline;
  GossipSgd gossip(gossip::Mode::pull, gossip_config("random"), world());
  Replica replica{std::vector<float>(64), std::vector<float>(64), {}};
  gossip.start(replica.view());
  replica.params = start_vector(world().rank(), 64);
  gossip.after_step(replica.view(), {0, 0, 0.0});  // publishes the start vector (and mixes once)
  std::vector<double> history = {consensus(replica.params)};
  for (int round = 1; round <= 40; ++round) {
    gossip.after_step(replica.view(), {round, 0, 0.0});
    if (round % 10 == 0) history.push_back(consensus(replica.params));
  }
  EXPECT_GT(history.front(), 1e-3);
  for (std::size_t k = 1; k < history.size(); ++k) {
    // Halving at least every 10 rounds, until float rounding makes it exact.
    EXPECT_TRUE(history[k] < history[k - 1] * 0.5 || history[k] < 1e-12)
        << "after " << 10 * k << " more rounds: " << history[k] << " vs " << history[k - 1];
  }
  EXPECT_LT(history.back(), 1e-6 * history.front() + 1e-12);
  gossip.finish(replica.view());
}

// Every node's vector is its own counter, the same in every element, and it
// changes every step while peers pull from it: a pulled vector mixed from two
// publications would make the average non-constant.
TEST(GossipMixing, PulledSnapshotsAreNeverHalfUpdated) {
  if (world().size() < 2) GTEST_SKIP() << "gossip needs 2 ranks";
  ShortDeadline deadline;
  constexpr std::size_t kSize = 1 << 21;  // 8 MB: copies take long enough to race
  GossipSgd gossip(gossip::Mode::pull, gossip_config("random"), world());
  Replica replica{std::vector<float>(kSize), std::vector<float>(kSize), {}};
  gossip.start(replica.view());
  int mixed = 0;
  for (int round = 0; round < 40; ++round) {
    std::fill(replica.params.begin(), replica.params.end(),
              static_cast<float>(world().rank() * 1000 + round));
    gossip.after_step(replica.view(), {round, 0, 0.0});
    const auto [low, high] = std::minmax_element(replica.params.begin(), replica.params.end());
    if (*low != *high) ++mixed;
  }
  EXPECT_EQ(mixed, 0);
  gossip.finish(replica.view());
}

}  // namespace
}  // namespace distsgd
