// Gossip peers: never oneself, distinct within a round, the ring and the
// exponential graph as defined, random peers reproducible and spread out.
#include "methods/topology.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/errors.hpp"

namespace distsgd {
namespace {

TEST(PeerSchedule, RingIsTheNextNodes) {
  PeerSchedule ring("ring", 3, 4, 1);
  EXPECT_EQ(ring.next(1), (std::vector<int>{0}));
  EXPECT_EQ(ring.next(2), (std::vector<int>{0, 1}));
}

TEST(PeerSchedule, ExponentialCyclesThroughPowersOfTwo) {
  PeerSchedule graph("exponential", 1, 8, 1);  // distances 1, 2, 4
  EXPECT_EQ(graph.next(1), (std::vector<int>{2}));
  EXPECT_EQ(graph.next(1), (std::vector<int>{3}));
  EXPECT_EQ(graph.next(1), (std::vector<int>{5}));
  EXPECT_EQ(graph.next(1), (std::vector<int>{2}));
  PeerSchedule two("exponential", 1, 2, 1);
  EXPECT_EQ(two.next(1), (std::vector<int>{0}));
  PeerSchedule five("exponential", 4, 5, 1);  // distances 1, 2, 4; 3 peers of 4 others
  EXPECT_EQ(five.next(3), (std::vector<int>{0, 1, 3}));
}

TEST(PeerSchedule, RandomPeersAreDistinctOthersReproducibleAndCoverEveryone) {
  PeerSchedule a("random", 2, 6, 9), b("random", 2, 6, 9);
  std::map<int, int> seen;
  for (int round = 0; round < 600; ++round) {
    const auto peers = a.next(2);
    EXPECT_EQ(peers, b.next(2));
    ASSERT_EQ(peers.size(), 2u);
    EXPECT_NE(peers[0], peers[1]);
    for (int peer : peers) {
      EXPECT_NE(peer, 2);
      EXPECT_GE(peer, 0);
      EXPECT_LT(peer, 6);
      ++seen[peer];
    }
  }
  EXPECT_EQ(seen.size(), 5u);
  for (const auto& [peer, count] : seen) EXPECT_NEAR(count, 240, 60) << "peer " << peer;
}

TEST(PeerSchedule, BadKindsAndCountsAreConfigErrors) {
  EXPECT_THROW(PeerSchedule("star", 0, 4, 1), ConfigError);
  EXPECT_THROW(PeerSchedule("ring", 0, 1, 1), ConfigError);
  PeerSchedule ring("ring", 0, 4, 1);
  EXPECT_THROW(ring.next(4), ConfigError);
  EXPECT_THROW(ring.next(0), ConfigError);
}

}  // namespace
}  // namespace distsgd
