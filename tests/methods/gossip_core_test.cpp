// The gossip cores of 16 nodes mixing inside one test process (no MPI, no
// threads): push-sum conserves mass and weight and reaches the exact average,
// pull averaging reaches consensus, and a node's place in the peer schedule
// survives a checkpoint.
#include "methods/gossip_core.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/random.hpp"
#include "methods/update_math.hpp"

namespace distsgd::gossip {
namespace {

constexpr int kNodes = 16;
constexpr std::size_t kNumel = 5;

std::vector<NodeCore> make_nodes(Mode mode, int peers, const std::string& topology) {
  std::vector<NodeCore> nodes;
  for (int rank = 0; rank < kNodes; ++rank) {
    Settings settings;
    settings.mode = mode;
    settings.peers = peers;
    settings.topology = topology;
    settings.rank = rank;
    settings.nodes = kNodes;
    settings.seed = 3;
    nodes.emplace_back(settings, kNumel);
    std::vector<float> params(kNumel);
    for (std::size_t i = 0; i < kNumel; ++i) params[i] = static_cast<float>(rank * rank) + i;
    nodes.back().load(params, {});
  }
  return nodes;
}

std::vector<double> exact_mean() {
  std::vector<double> mean(kNumel, 0.0);
  for (int rank = 0; rank < kNodes; ++rank)
    for (std::size_t i = 0; i < kNumel; ++i) mean[i] += (static_cast<double>(rank * rank) + i) / kNodes;
  return mean;
}

// One round of push gossip on every node in turn; pushes are delivered in a
// seeded random order, some only a round later (in flight).
void push_rounds(std::vector<NodeCore>& nodes, int rounds, std::vector<Inbox>& inboxes) {
  SplitMix64 random(11);
  std::vector<std::pair<int, std::vector<float>>> in_flight;
  for (int round = 0; round < rounds; ++round) {
    for (auto& node : nodes) {
      node.begin_mixing();
      const auto peers = node.next_peers();
      node.share(static_cast<int>(peers.size()));
      for (int peer : peers) {
        std::vector<float> message;
        node.write_push(message);
        in_flight.emplace_back(peer, std::move(message));
        node.count_push();
      }
    }
    std::vector<std::pair<int, std::vector<float>>> later;
    for (auto& [peer, message] : in_flight) {
      if (random.coin() && round + 1 < rounds)
        later.emplace_back(peer, std::move(message));
      else
        NodeCore::add_push(inboxes[static_cast<std::size_t>(peer)], message);
    }
    in_flight = std::move(later);
    for (int rank = 0; rank < kNodes; ++rank) {
      nodes[static_cast<std::size_t>(rank)].absorb(inboxes[static_cast<std::size_t>(rank)]);
      inboxes[static_cast<std::size_t>(rank)].clear();
    }
  }
}

TEST(GossipCore, PushSumOfSixteenNodesConservesMassAndWeightAndReachesTheExactAverage) {
  for (const char* topology : {"random", "exponential", "ring"}) {
    SCOPED_TRACE(topology);
    auto nodes = make_nodes(Mode::push_sum, 1, topology);
    std::vector<Inbox> inboxes(kNodes, Inbox(kNumel));
    push_rounds(nodes, 200, inboxes);
    double total_weight = 0.0;
    std::vector<double> mass(kNumel, 0.0);
    for (const auto& node : nodes) {
      total_weight += node.weight();
      for (std::size_t i = 0; i < kNumel; ++i) mass[i] += node.state()[i] * node.weight();
    }
    // The total weight stays the number of nodes (up to the rounding of sums
    // of ever smaller halves).
    EXPECT_NEAR(total_weight, kNodes, 1e-12);
    const auto mean = exact_mean();
    for (std::size_t i = 0; i < kNumel; ++i) {
      EXPECT_NEAR(mass[i] / kNodes, mean[i], 1e-3 * mean[i] + 1e-4);
      // A ring of 16 mixes too slowly for 200 rounds; the others reach the average.
      if (std::string(topology) == "ring") continue;
      for (const auto& node : nodes) EXPECT_NEAR(node.state()[i], mean[i], 1e-2 * mean[i] + 1e-3);
    }
    const auto* heaviest = &nodes[0];
    for (const auto& node : nodes) if (node.weight() > heaviest->weight()) heaviest = &node;
    EXPECT_NE(heaviest->weight(), 1.0) << "weights never moved";
  }
}

// --survive-worker-loss: node 5 dies at round 2, before the nodes agree; the
// others go on choosing it until round 12 (their deadline), and those pushes are lost on the way. The
// weight is accounted for exactly (survivors + the dead node's + the lost
// pushes' = the node count); once nobody pushes to it any more the survivors'
// sum(x) and sum(w) are conserved and every survivor converges to their ratio.
TEST(GossipCore, PushSumAfterALostNodeAccountsForItsWeightAndReachesTheSurvivorsRatio) {
  for (const char* topology : {"random", "exponential"}) {
    SCOPED_TRACE(topology);
    auto nodes = make_nodes(Mode::push_sum, 1, topology);
    std::vector<Inbox> inboxes(kNodes, Inbox(kNumel));
    constexpr int kDead = 5, kDies = 2, kNoticed = 12;
    double dead_weight = 0.0;
    int lost_pushes = 0;
    std::vector<double> ratio_after_loss;
    for (int round = 0; round < 400; ++round) {
      if (round == kDies) dead_weight = nodes[kDead].weight();
      if (round == kNoticed) {
        for (int rank = 0; rank < kNodes; ++rank)
          if (rank != kDead) nodes[static_cast<std::size_t>(rank)].mark_lost(kDead);
        // From here the survivors' mass is closed: their ratio must hold.
        std::vector<double> x(kNumel, 0.0);
        double w = 0.0;
        for (int rank = 0; rank < kNodes; ++rank) {
          if (rank == kDead) continue;
          const auto& node = nodes[static_cast<std::size_t>(rank)];
          w += node.weight();
          for (std::size_t i = 0; i < kNumel; ++i) x[i] += node.state()[i] * node.weight();
        }
        for (auto& value : x) ratio_after_loss.push_back(value / w);
      }
      for (int rank = 0; rank < kNodes; ++rank) {
        if (rank == kDead && round >= kDies) continue;
        auto& node = nodes[static_cast<std::size_t>(rank)];
        node.begin_mixing();
        const auto peers = node.next_peers();
        node.share(static_cast<int>(peers.size()));
        for (int peer : peers) {
          EXPECT_FALSE(round >= kNoticed && peer == kDead) << "a lost node chosen";
          std::vector<float> message;
          node.write_push(message);
          if (peer == kDead && round >= kDies) {
            node.lose_push(message);
            ++lost_pushes;
          } else {
            NodeCore::add_push(inboxes[static_cast<std::size_t>(peer)], message);
          }
        }
      }
      for (int rank = 0; rank < kNodes; ++rank) {
        if (rank == kDead && round >= kDies) continue;
        nodes[static_cast<std::size_t>(rank)].absorb(inboxes[static_cast<std::size_t>(rank)]);
        inboxes[static_cast<std::size_t>(rank)].clear();
      }
    }
    EXPECT_GT(lost_pushes, 0) << "no push went to the dead node between its death and the deadline";
    double survivors_weight = 0.0, lost_weight = 0.0;
    for (int rank = 0; rank < kNodes; ++rank) {
      if (rank == kDead) continue;
      survivors_weight += nodes[static_cast<std::size_t>(rank)].weight();
      lost_weight += nodes[static_cast<std::size_t>(rank)].weight_lost();
    }
    EXPECT_GT(lost_weight, 0.0);
    EXPECT_LT(survivors_weight, kNodes - dead_weight);
    EXPECT_NEAR(survivors_weight + dead_weight + lost_weight, kNodes, 1e-12);
    const auto full_mean = exact_mean();
    for (std::size_t i = 0; i < kNumel; ++i) {
      for (int rank = 0; rank < kNodes; ++rank) {
        if (rank == kDead) continue;
        EXPECT_NEAR(nodes[static_cast<std::size_t>(rank)].state()[i], ratio_after_loss[i],
                    1e-3 * ratio_after_loss[i] + 1e-3)
            << "rank " << rank << " element " << i;
      }
    }
    // The survivors' average is not the 16 nodes' one: the dead node's mass
    // (far from the mean before consensus) is gone.
    EXPECT_GT(std::fabs(ratio_after_loss[0] - full_mean[0]), 1e-2);
  }
}

// Push-average has no mass: a lost push costs nothing to account for.
TEST(GossipCore, OnlyPushSumCountsTheWeightOfALostPush) {
  auto sum = make_nodes(Mode::push_sum, 1, "ring");
  auto average = make_nodes(Mode::push_average, 1, "ring");
  for (auto* nodes : {&sum, &average}) {
    auto& node = (*nodes)[0];
    node.begin_mixing();
    node.share(1);
    std::vector<float> message;
    node.write_push(message);
    node.lose_push(message);
  }
  EXPECT_DOUBLE_EQ(sum[0].weight_lost(), 0.5);
  EXPECT_DOUBLE_EQ(average[0].weight_lost(), 0.0);
}

TEST(GossipCore, PushSumWithTwoPeersKeepsTheTotalWeightWithinRounding) {
  auto nodes = make_nodes(Mode::push_sum, 2, "random");
  std::vector<Inbox> inboxes(kNodes, Inbox(kNumel));
  push_rounds(nodes, 60, inboxes);
  double total_weight = 0.0;
  for (const auto& node : nodes) total_weight += node.weight();
  EXPECT_NEAR(total_weight, kNodes, 1e-9);
}

TEST(GossipCore, PullAveragingOfSixteenNodesReachesConsensus) {
  auto nodes = make_nodes(Mode::pull, 2, "exponential");
  for (int round = 0; round < 100; ++round) {
    // Every node pulls the states its peers published at the start of the round.
    std::vector<std::vector<float>> published;
    for (const auto& node : nodes) published.emplace_back(node.state().begin(), node.state().end());
    for (auto& node : nodes) {
      std::vector<std::span<const float>> pulled;
      for (int peer : node.next_peers()) pulled.emplace_back(published[static_cast<std::size_t>(peer)]);
      node.mix_pulled(pulled);
    }
  }
  const auto first = std::vector<float>(nodes[0].state().begin(), nodes[0].state().end());
  for (const auto& node : nodes)
    EXPECT_LT(math::max_abs_difference(node.state(), first), 1e-3f);
  EXPECT_EQ(nodes[0].rounds(), 100);
}

TEST(GossipCore, PushAverageMixesWhatArrivedWithEqualWeights) {
  Settings settings;
  settings.mode = Mode::push_average;
  NodeCore node(settings, 2);
  node.load(std::vector<float>{3.0f, 6.0f}, {});
  Inbox inbox(2);
  std::vector<float> a = {0, 0, 1.0f, 2.0f}, b = {0, 0, 5.0f, 4.0f};  // [weight][state]
  NodeCore::add_push(inbox, a);
  NodeCore::add_push(inbox, b);
  EXPECT_EQ(inbox.count, 2);
  node.absorb(inbox);
  EXPECT_FLOAT_EQ(node.state()[0], 3.0f);  // (3 + 1 + 5) / 3
  EXPECT_FLOAT_EQ(node.state()[1], 4.0f);  // (6 + 2 + 4) / 3
  EXPECT_EQ(node.weight(), 1.0);
  EXPECT_THROW(NodeCore::add_push(inbox, std::vector<float>(3)), std::invalid_argument);
}

TEST(GossipCore, MomentumIsMixedOnlyWhenAskedAndStartsAsZeros) {
  Settings settings;
  settings.mix_momentum = true;
  NodeCore node(settings, 2);
  EXPECT_EQ(node.state_size(), 4u);
  std::vector<float> params = {1, 2}, momentum;
  node.load(params, momentum);  // before the first step: no momentum buffer
  EXPECT_EQ(node.state()[2], 0.0f);
  EXPECT_EQ(node.state()[3], 0.0f);
  std::vector<float> out_params(2), out_momentum(2, 9.0f);
  node.store(out_params, out_momentum);
  EXPECT_EQ(out_params, params);
  EXPECT_EQ(out_momentum, (std::vector<float>{0, 0}));
}

TEST(GossipCore, ACheckpointKeepsTheWeightAndThePlaceInThePeerSchedule) {
  auto nodes = make_nodes(Mode::push_sum, 1, "random");
  std::vector<Inbox> inboxes(kNodes, Inbox(kNumel));
  push_rounds(nodes, 7, inboxes);
  const auto state = nodes[3].checkpoint_state();
  auto fresh = make_nodes(Mode::push_sum, 1, "random");
  fresh[3].restore_state(state);
  EXPECT_EQ(fresh[3].weight(), nodes[3].weight());
  EXPECT_EQ(fresh[3].rounds(), 7);
  for (int round = 0; round < 5; ++round) EXPECT_EQ(fresh[3].next_peers(), nodes[3].next_peers());
}

TEST(GossipCore, ARoundIsDueEveryTauSteps) {
  Settings settings;
  settings.tau = 3;
  NodeCore node(settings, 1);
  EXPECT_FALSE(node.round_due(0));
  EXPECT_FALSE(node.round_due(1));
  EXPECT_TRUE(node.round_due(2));
  EXPECT_TRUE(node.round_due(5));
}

}  // namespace
}  // namespace distsgd::gossip
