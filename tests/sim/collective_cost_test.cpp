// All-reduce costs: each algorithm's formula on known figures, one node and a
// free network cost nothing, each step uses its message size's range, and the
// names parse both ways.
#include "sim/collective_cost.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "core/errors.hpp"

namespace distsgd::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLat = 5e-6, kBw = 2e9, kS = 64e6;

NetworkProfile flat() { return NetworkProfile("flat", {{kInf, {kLat, kBw}}}, "test"); }

using Algo = AllreduceAlgorithm;

TEST(AllreduceCost, RingOnFourNodes) {
  EXPECT_DOUBLE_EQ(allreduce_s(Algo::ring, 4, kS, flat()), 2.0 * 3 / 4 * kS / kBw + 6 * kLat);
}

TEST(AllreduceCost, RingOnAnyNodeCount) {
  for (int n : {2, 3, 5, 8, 13, 64})
    EXPECT_DOUBLE_EQ(allreduce_s(Algo::ring, n, kS, flat()),
                     2.0 * (n - 1) / n * kS / kBw + 2.0 * (n - 1) * kLat)
        << n;
}

TEST(AllreduceCost, TreeIsTwiceCeilLog2WholeMessages) {
  const double message = kLat + kS / kBw;
  EXPECT_DOUBLE_EQ(allreduce_s(Algo::tree, 2, kS, flat()), 2 * 1 * message);
  EXPECT_DOUBLE_EQ(allreduce_s(Algo::tree, 4, kS, flat()), 2 * 2 * message);
  EXPECT_DOUBLE_EQ(allreduce_s(Algo::tree, 5, kS, flat()), 2 * 3 * message);
  EXPECT_DOUBLE_EQ(allreduce_s(Algo::tree, 8, kS, flat()), 2 * 3 * message);
  EXPECT_DOUBLE_EQ(allreduce_s(Algo::tree, 9, kS, flat()), 2 * 4 * message);
}

TEST(AllreduceCost, HalvingDoublingOnPowersOfTwo) {
  for (int k = 1; k <= 6; ++k) {
    const int n = 1 << k;
    EXPECT_NEAR(allreduce_s(Algo::halving_doubling, n, kS, flat()),
                2.0 * k * kLat + 2.0 * (n - 1) / n * kS / kBw, 1e-12)
        << n;
  }
}

TEST(AllreduceCost, HalvingDoublingOnOtherCountsAddsTheExtraStep) {
  const double whole = kLat + kS / kBw;
  // 6 = 4 + 2 extra: the algorithm on 4, plus the vectors in and out.
  EXPECT_NEAR(allreduce_s(Algo::halving_doubling, 6, kS, flat()),
              allreduce_s(Algo::halving_doubling, 4, kS, flat()) + 2 * whole, 1e-12);
  EXPECT_NEAR(allreduce_s(Algo::halving_doubling, 3, kS, flat()), 2 * kLat + kS / kBw + 2 * whole,
              1e-12);
}

TEST(AllreduceCost, OneNodeAndAFreeNetworkCostNothing) {
  for (Algo algo : {Algo::ring, Algo::tree, Algo::halving_doubling}) {
    EXPECT_EQ(allreduce_s(algo, 1, kS, flat()), 0.0);
    EXPECT_EQ(allreduce_s(algo, 16, kS, NetworkProfile::parse("free")), 0.0);
  }
}

TEST(AllreduceCost, EachStepUsesTheRangeOfItsOwnMessageSize) {
  // Messages up to 1 MB: 1 us, 1 GB/s; larger: 1 ms, 10 GB/s.
  const NetworkProfile ranged("ranged", {{1e6, {1e-6, 1e9}}, {kInf, {1e-3, 1e10}}}, "test");
  // Ring of 4 over 4 MB: messages of 1 MB, the small range.
  EXPECT_DOUBLE_EQ(allreduce_s(Algo::ring, 4, 4e6, ranged), 6 * (1e-6 + 1e6 / 1e9));
  // Tree over 4 MB: whole messages, the large range.
  EXPECT_DOUBLE_EQ(allreduce_s(Algo::tree, 4, 4e6, ranged), 4 * (1e-3 + 4e6 / 1e10));
  // Halving-doubling over 4 MB on 4: steps of 2 MB (large) and 1 MB (small).
  EXPECT_DOUBLE_EQ(allreduce_s(Algo::halving_doubling, 4, 4e6, ranged),
                   2 * (1e-3 + 2e6 / 1e10) + 2 * (1e-6 + 1e6 / 1e9));
}

TEST(AllreduceCost, BandwidthBoundMessagesFavourRingAndHalvingDoublingOverTree) {
  const auto ib = NetworkProfile::parse("100g-ib");
  EXPECT_LT(allreduce_s(Algo::ring, 16, 100e6, ib), allreduce_s(Algo::tree, 16, 100e6, ib));
  // Latency-bound (tiny) messages: the ring's 2(N-1) steps lose to log2 N.
  EXPECT_GT(allreduce_s(Algo::ring, 64, 1024, ib),
            allreduce_s(Algo::halving_doubling, 64, 1024, ib));
}

TEST(AllreduceCost, OpenMpiIsTreeBelowFourRanksOr64KiBAndRingFromThere) {
  for (int n : {2, 3})
    EXPECT_DOUBLE_EQ(allreduce_s(Algo::openmpi, n, kS, flat()), allreduce_s(Algo::tree, n, kS, flat()));
  EXPECT_DOUBLE_EQ(allreduce_s(Algo::openmpi, 8, 65535, flat()),
                   allreduce_s(Algo::tree, 8, 65535, flat()));
  for (int n : {4, 8, 13})
    EXPECT_DOUBLE_EQ(allreduce_s(Algo::openmpi, n, kS, flat()), allreduce_s(Algo::ring, n, kS, flat()));
}

TEST(AllreduceCost, NamesParseBothWays) {
  for (Algo algo : {Algo::ring, Algo::tree, Algo::halving_doubling, Algo::openmpi})
    EXPECT_EQ(parse_allreduce_algorithm(allreduce_algorithm_name(algo)), algo);
  EXPECT_EQ(allreduce_algorithm_name(Algo::halving_doubling), "halving-doubling");
  try {
    parse_allreduce_algorithm("butterfly");
    ADD_FAILURE() << "accepted 'butterfly'";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    for (const char* name : {"'butterfly'", "ring", "tree", "halving-doubling"})
      EXPECT_NE(message.find(name), std::string::npos) << message;
  }
}

TEST(AllreduceCost, BadArgumentsAreRejected) {
  EXPECT_THROW(allreduce_s(Algo::ring, 0, kS, flat()), ConfigError);
  EXPECT_THROW(allreduce_s(Algo::ring, 4, -1, flat()), std::invalid_argument);
}

}  // namespace
}  // namespace distsgd::sim
