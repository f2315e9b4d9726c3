// Link queues: an uncontended message costs latency + size / bandwidth;
// messages converging on one receiver, or leaving one sender, queue one
// transfer time apart in FIFO order; without queues they do not; each node's
// busy time is what its links carried.
#include "sim/link_queues.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/errors.hpp"

namespace distsgd::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// 1 GB/s and 10 us: a 1 MB message occupies a link for exactly 1 ms.
constexpr double kLatency = 10e-6, kBandwidth = 1e9, kMB = 1e6, kTransfer = 1e-3;

NetworkProfile test_profile() {
  return NetworkProfile("test", {{kInf, {kLatency, kBandwidth}}}, "test");
}

TEST(LinkQueues, OneMessageCostsLatencyPlusTransfer) {
  LinkQueues links(4, test_profile());
  EXPECT_DOUBLE_EQ(links.send(0, 1, kMB, 2.0), 2.0 + kLatency + kTransfer);
  EXPECT_DOUBLE_EQ(links.profile().message_s(kMB), kLatency + kTransfer);
}

TEST(LinkQueues, TwoMessagesConvergingOnOneReceiverArriveOneTransferApart) {
  LinkQueues links(3, test_profile());
  const double first = links.send(0, 2, kMB, 0.0);
  const double second = links.send(1, 2, kMB, 0.0);
  EXPECT_DOUBLE_EQ(first, kLatency + kTransfer);
  EXPECT_DOUBLE_EQ(second, first + kTransfer);
}

TEST(LinkQueues, WithoutQueuesConvergingMessagesArriveTogether) {
  LinkQueues links(3, test_profile(), /*queues=*/false);
  EXPECT_FALSE(links.queues());
  const double first = links.send(0, 2, kMB, 0.0);
  const double second = links.send(1, 2, kMB, 0.0);
  EXPECT_DOUBLE_EQ(first, kLatency + kTransfer);
  EXPECT_DOUBLE_EQ(second, first);
  // One sender's messages do not wait for each other either.
  EXPECT_DOUBLE_EQ(links.send(0, 1, kMB, 0.0), first);
}

TEST(LinkQueues, OneSendersMessagesLeaveInFifoOrder) {
  LinkQueues links(3, test_profile());
  // Three messages handed over at once to different receivers: each waits for
  // the previous one to leave the sender's link.
  const double a = links.send(0, 1, kMB, 0.0);
  const double b = links.send(0, 2, kMB, 0.0);
  const double c = links.send(0, 1, kMB, 0.0);
  EXPECT_DOUBLE_EQ(a, kLatency + kTransfer);
  EXPECT_DOUBLE_EQ(b, a + kTransfer);
  EXPECT_DOUBLE_EQ(c, b + kTransfer);
  // The queue follows the calls: a message handed over "earlier" but called
  // later still goes behind them.
  EXPECT_DOUBLE_EQ(links.send(0, 2, kMB, 0.0), c + kTransfer);
}

TEST(LinkQueues, ASmallMessageWaitsBehindALargeOne) {
  LinkQueues links(2, test_profile());
  const double large = links.send(0, 1, 10 * kMB, 0.0);  // 10 ms on the link
  const double small = links.send(0, 1, 1000, 0.0);
  EXPECT_DOUBLE_EQ(large, kLatency + 10 * kTransfer);
  EXPECT_DOUBLE_EQ(small, large + 1000 / kBandwidth);
}

TEST(LinkQueues, AFreeLinkIsReusedWithoutDelay) {
  LinkQueues links(2, test_profile());
  links.send(0, 1, kMB, 0.0);
  // Handed over after both links are free again: no wait.
  EXPECT_DOUBLE_EQ(links.send(0, 1, kMB, 1.0), 1.0 + kLatency + kTransfer);
}

TEST(LinkQueues, SendingAndReceivingDoNotCompete) {
  LinkQueues links(2, test_profile());
  // Full duplex: 0 -> 1 and 1 -> 0 at once both take only their own time.
  EXPECT_DOUBLE_EQ(links.send(0, 1, kMB, 0.0), kLatency + kTransfer);
  EXPECT_DOUBLE_EQ(links.send(1, 0, kMB, 0.0), kLatency + kTransfer);
}

TEST(LinkQueues, ASenderBusyElsewhereDelaysOnlyItsOwnMessages) {
  LinkQueues links(4, test_profile());
  links.send(0, 1, kMB, 0.0);
  // 2 -> 3 shares no link with 0 -> 1.
  EXPECT_DOUBLE_EQ(links.send(2, 3, kMB, 0.0), kLatency + kTransfer);
}

TEST(LinkQueues, MessageToSelfArrivesAtOnceAndCostsNoLinkTime) {
  LinkQueues links(2, test_profile());
  EXPECT_EQ(links.send(1, 1, kMB, 3.5), 3.5);
  EXPECT_EQ(links.busy_s(1), 0.0);
  EXPECT_DOUBLE_EQ(links.send(0, 1, kMB, 0.0), kLatency + kTransfer);  // nothing queued
}

TEST(LinkQueues, BusyTimeIsWhatEachNodesLinksCarried) {
  for (const bool queues : {true, false}) {
    LinkQueues links(3, test_profile(), queues);
    links.send(0, 2, kMB, 0.0);
    links.send(1, 2, kMB, 0.0);
    links.send(2, 0, 2 * kMB, 0.0);
    EXPECT_DOUBLE_EQ(links.sent_s(0), kTransfer);
    EXPECT_DOUBLE_EQ(links.received_s(0), 2 * kTransfer);
    EXPECT_DOUBLE_EQ(links.busy_s(0), 3 * kTransfer);
    EXPECT_DOUBLE_EQ(links.busy_s(1), kTransfer);
    EXPECT_DOUBLE_EQ(links.received_s(2), 2 * kTransfer);
    EXPECT_DOUBLE_EQ(links.busy_s(2), 4 * kTransfer);
  }
}

TEST(LinkQueues, EachMessageUsesTheCostOfItsSizesRange) {
  // Small messages: 1 us and 1 GB/s; large ones: 100 us and 10 GB/s.
  const NetworkProfile ranged("ranged", {{1e4, {1e-6, 1e9}}, {kInf, {1e-4, 1e10}}}, "test");
  LinkQueues links(2, ranged);
  EXPECT_DOUBLE_EQ(links.send(0, 1, 1e4, 0.0), 1e-6 + 1e-5);
  EXPECT_DOUBLE_EQ(links.send(0, 1, 1e6, 1.0), 1.0 + 1e-4 + 1e-4);
}

TEST(LinkQueues, AFreeNetworkDeliversEverythingAtOnce) {
  LinkQueues links(3, NetworkProfile::parse("free"));
  EXPECT_EQ(links.send(0, 2, 1e9, 1.0), 1.0);
  EXPECT_EQ(links.send(1, 2, 1e9, 1.0), 1.0);
  EXPECT_EQ(links.busy_s(2), 0.0);
}

TEST(LinkQueues, TheSameCallsGiveTheSameTimes) {
  const auto run = [] {
    LinkQueues links(5, test_profile());
    std::vector<double> arrivals;
    for (int i = 0; i < 40; ++i)
      arrivals.push_back(links.send(i % 5, (i * 3 + 1) % 5, 1e5 * (1 + i % 7), 1e-4 * i));
    return arrivals;
  };
  EXPECT_EQ(run(), run());
}

TEST(LinkQueues, BadArgumentsAreRejected) {
  EXPECT_THROW(LinkQueues(0, test_profile()), ConfigError);
  LinkQueues links(2, test_profile());
  EXPECT_THROW(links.send(2, 0, 1, 0), std::out_of_range);
  EXPECT_THROW(links.send(0, -1, 1, 0), std::out_of_range);
  EXPECT_THROW(links.send(0, 1, -1, 0), std::invalid_argument);
  EXPECT_THROW(links.send(0, 1, 1, std::nan("")), std::invalid_argument);
  EXPECT_THROW(links.busy_s(5), std::out_of_range);
}

}  // namespace
}  // namespace distsgd::sim
