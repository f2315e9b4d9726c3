// Gossip peers: never oneself, distinct within a round, the ring and the
// exponential graph as defined, random peers reproducible and spread out.
#include "methods/topology.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <stdexcept>

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

// --survive-worker-loss: a lost node is never chosen again; ring and
// exponential take the next live node after a lost target.
TEST(PeerSchedule, ALostNodeIsNeverChosenAndItsPlaceGoesToTheNextLiveNode) {
  PeerSchedule ring("ring", 0, 4, 1);
  ring.exclude(1);
  EXPECT_EQ(ring.next(1), (std::vector<int>{2}));
  EXPECT_EQ(ring.next(2), (std::vector<int>{2, 3}));
  EXPECT_EQ(ring.next(3), (std::vector<int>{2, 3})) << "only two live others are left";

  PeerSchedule graph("exponential", 1, 8, 1);  // targets 2, 3, 5 in turn
  graph.exclude(3);
  EXPECT_EQ(graph.next(1), (std::vector<int>{2}));
  EXPECT_EQ(graph.next(1), (std::vector<int>{4})) << "3 is lost: the next live node after it";
  EXPECT_EQ(graph.next(1), (std::vector<int>{5}));

  for (const char* kind : {"random", "ring", "exponential"}) {
    SCOPED_TRACE(kind);
    PeerSchedule schedule(kind, 2, 6, 9);
    schedule.exclude(0);
    schedule.exclude(4);
    std::set<int> seen;
    for (int round = 0; round < 200; ++round) {
      const auto peers = schedule.next(2);
      ASSERT_EQ(peers.size(), 2u);
      EXPECT_NE(peers[0], peers[1]);
      for (int peer : peers) {
        EXPECT_NE(peer, 0);
        EXPECT_NE(peer, 4);
        EXPECT_NE(peer, 2);
        seen.insert(peer);
      }
    }
    // A ring reaches the next live nodes only; the others reach every live one.
    const std::set<int> reached =
        std::string(kind) == "ring" ? std::set<int>{3, 5} : std::set<int>{1, 3, 5};
    EXPECT_EQ(seen, reached);
    for (int node : {1, 3, 5}) schedule.exclude(node);
    EXPECT_TRUE(schedule.next(2).empty()) << "every other node is lost: nobody to gossip with";
  }
  PeerSchedule self("ring", 2, 4, 1);
  EXPECT_THROW(self.exclude(2), std::invalid_argument);
}

// Excluding nothing leaves the schedule as it was (checkpoints replay it).
TEST(PeerSchedule, RandomWithNothingExcludedDrawsAsBefore) {
  PeerSchedule a("random", 1, 5, 4), b("random", 1, 5, 4);
  for (int round = 0; round < 50; ++round) EXPECT_EQ(a.next(2), b.next(2));
  PeerSchedule c("random", 1, 5, 4), d("random", 1, 5, 4);
  d.exclude(3);
  bool differ = false;
  for (int round = 0; round < 50; ++round) differ = differ || c.next(2) != d.next(2);
  EXPECT_TRUE(differ);
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
