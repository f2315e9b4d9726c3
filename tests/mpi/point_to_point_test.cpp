// The point-to-point and shutdown pieces of the comm boundary that the
// asynchronous methods build on, under mpirun with 1, 2 and 4 ranks.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "mpi_test_env.hpp"

namespace distsgd::testing {
namespace {

constexpr int kTag = 9100;

TEST(PointToPoint, SynchronousSendAroundTheRingDeliversEveryValue) {
  auto& comm = world();
  const int next = (comm.rank() + 1) % comm.size(),
            prev = (comm.rank() + comm.size() - 1) % comm.size();
  std::vector<float> out(1000), in(1000, -1.0f);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(comm.rank() * 10000 + i);
  auto receive = comm.irecv(in.data(), in.size() * sizeof(float), prev, kTag, "ring receive");
  auto send = comm.issend(out.data(), out.size() * sizeof(float), next, kTag, "ring send");
  send.wait();
  receive.wait();
  for (std::size_t i = 0; i < in.size(); ++i)
    ASSERT_EQ(in[i], static_cast<float>(prev * 10000 + i));
}

TEST(PointToPoint, IssendIsNotCompleteBeforeTheReceiverReceives) {
  auto& comm = world();
  if (comm.size() < 2) GTEST_SKIP() << "needs 2 ranks";
  int value = comm.rank() == 0 ? 42 : 0;
  if (comm.rank() == 0) {
    auto send = comm.issend(&value, sizeof value, 1, kTag + 1);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    bool early = false;
    while (std::chrono::steady_clock::now() < until) early = early || send.test();
    EXPECT_FALSE(early) << "rank 1 posts its receive only after the barrier";
    comm.barrier("issend test");
    send.wait();
  } else if (comm.rank() == 1) {
    comm.barrier("issend test");
    comm.recv(&value, sizeof value, 0, kTag + 1);
    EXPECT_EQ(value, 42);
  } else {
    comm.barrier("issend test");
  }
}

TEST(PointToPoint, NonBlockingBarrierCompletesAndPendingReceiveCancels) {
  auto& comm = world();
  int never = 0;
  auto orphan =
      comm.irecv(&never, sizeof never, (comm.rank() + 1) % comm.size(), kTag + 2, "nothing");
  auto barrier = comm.ibarrier("cancel test");
  barrier.wait();
  EXPECT_FALSE(orphan.test());
  EXPECT_TRUE(orphan.cancel());
  EXPECT_TRUE(orphan.test());
  EXPECT_FALSE(orphan.cancel()) << "already complete";
  EXPECT_EQ(never, 0);
  comm.barrier("after cancel");
}

TEST(PointToPoint, CancelReportsAMessageThatHadArrived) {
  auto& comm = world();
  const int next = (comm.rank() + 1) % comm.size(),
            prev = (comm.rank() + comm.size() - 1) % comm.size();
  int sent = comm.rank() + 100, got = 0;
  auto receive = comm.irecv(&got, sizeof got, prev, kTag + 3, "arrived");
  comm.issend(&sent, sizeof sent, next, kTag + 3).wait();  // matched: the receive has it
  comm.barrier("before cancel");
  EXPECT_FALSE(receive.cancel());
  EXPECT_EQ(got, prev + 100);
}

}  // namespace
}  // namespace distsgd::testing
