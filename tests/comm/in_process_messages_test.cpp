// Tagged messages of the in-process transport, with MPI's semantics: a ring of
// 16 ranks, synchronous sends, cancel before and after arrival, order, buffers
// larger (and smaller) than the message, and a second thread per rank.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "in_process_ranks.hpp"

namespace distsgd::testing {
namespace {

constexpr int kTag = 9100;

int next_of(const comm::Communicator& c) { return (c.rank() + 1) % c.size(); }
int prev_of(const comm::Communicator& c) { return (c.rank() + c.size() - 1) % c.size(); }

TEST(InProcessMessages, SendsAroundTheRingDeliverEveryValue) {
  for (int size : {1, 2, kRanks}) {
    run_ranks(size, [](comm::Communicator& comm) {
      const int next = next_of(comm), prev = prev_of(comm);
      std::vector<float> out(1000), in(1000, -1.0f);
      for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<float>(comm.rank() * 10000 + i);
      auto receive = comm.irecv(in.data(), in.size() * sizeof(float), prev, kTag, "ring receive");
      auto send = comm.issend(out.data(), out.size() * sizeof(float), next, kTag, "ring send");
      send.wait();
      receive.wait();
      for (std::size_t i = 0; i < in.size(); ++i)
        ASSERT_EQ(in[i], static_cast<float>(prev * 10000 + i));
      // And with plain (blocking) sends, sent before the receive is posted.
      int token = comm.rank();
      comm.send(&token, sizeof token, next, kTag + 1);
      comm.recv(&token, sizeof token, prev, kTag + 1);
      EXPECT_EQ(token, prev);
    });
  }
}

TEST(InProcessMessages, IssendIsNotCompleteBeforeTheReceiverReceives) {
  run_ranks(kRanks, [](comm::Communicator& comm) {
    const bool sender = comm.rank() % 2 == 0;
    const int partner = sender ? comm.rank() + 1 : comm.rank() - 1;
    int value = sender ? 42 + comm.rank() : 0;
    if (sender) {
      auto send = comm.issend(&value, sizeof value, partner, kTag);
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
      bool early = false;
      while (std::chrono::steady_clock::now() < until) {
        early = early || send.test();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      EXPECT_FALSE(early) << "the partner posts its receive only after the barrier";
      comm.barrier("issend test");
      send.wait();
    } else {
      comm.barrier("issend test");
      comm.recv(&value, sizeof value, partner, kTag);
      EXPECT_EQ(value, 42 + partner);
    }
  });
}

TEST(InProcessMessages, PendingReceiveCancelsAndALaterOneGetsTheMessage) {
  run_ranks(kRanks, [](comm::Communicator& comm) {
    int never = 0;
    auto orphan = comm.irecv(&never, sizeof never, next_of(comm), kTag, "nothing");
    comm.ibarrier("cancel test").wait();
    EXPECT_FALSE(orphan.test());
    EXPECT_TRUE(orphan.cancel());
    EXPECT_TRUE(orphan.test());
    EXPECT_FALSE(orphan.cancel()) << "already complete";
    // A message sent after the cancel goes to the next receive, not the cancelled one.
    int sent = comm.rank(), got = -1;
    comm.barrier("after cancel");
    comm.isend(&sent, sizeof sent, prev_of(comm), kTag).wait();
    comm.recv(&got, sizeof got, next_of(comm), kTag);
    EXPECT_EQ(got, next_of(comm));
    EXPECT_EQ(never, 0);
  });
}

TEST(InProcessMessages, CancelReportsAMessageThatHadArrived) {
  run_ranks(kRanks, [](comm::Communicator& comm) {
    int sent = comm.rank() + 100, got = 0;
    auto receive = comm.irecv(&got, sizeof got, prev_of(comm), kTag, "arrived");
    comm.issend(&sent, sizeof sent, next_of(comm), kTag).wait();  // matched: the receive has it
    comm.barrier("before cancel");
    EXPECT_FALSE(receive.cancel());
    EXPECT_EQ(got, prev_of(comm) + 100);
  });
}

TEST(InProcessMessages, AnUnmatchedIssendCancelsAndAReleasedOneStillArrives) {
  run_ranks(2, [](comm::Communicator& comm) {
    int value = 7;
    if (comm.rank() == 0) {
      auto withdrawn = comm.issend(&value, sizeof value, 1, kTag);
      EXPECT_TRUE(withdrawn.cancel());
      auto released = comm.issend(&value, sizeof value, 1, kTag + 1);
      released.release();
      EXPECT_TRUE(released.test());
      comm.barrier("sent");
    } else {
      comm.barrier("sent");
      int got = 0;
      comm.recv(&got, sizeof got, 0, kTag + 1);
      EXPECT_EQ(got, 7);
      auto nothing = comm.irecv(&got, sizeof got, 0, kTag);
      EXPECT_FALSE(nothing.test()) << "the cancelled send never arrives";
      EXPECT_TRUE(nothing.cancel());
    }
  });
}

TEST(InProcessMessages, SameTagArrivesInOrderAndTagsDoNotBlockEachOther) {
  constexpr int kMessages = 200;
  run_ranks(kRanks, [](comm::Communicator& comm) {
    std::vector<int> out(kMessages);
    std::vector<comm::Request> sends;
    for (int i = 0; i < kMessages; ++i) {
      out[i] = comm.rank() * 1000 + i;
      sends.push_back(comm.isend(&out[i], sizeof(int), next_of(comm), kTag));
    }
    int last = -1;
    comm.send(&last, sizeof last, next_of(comm), kTag + 1);
    // The later tag first: it does not wait behind the 200 of the other tag.
    int got = 0;
    comm.recv(&got, sizeof got, prev_of(comm), kTag + 1);
    EXPECT_EQ(got, -1);
    for (int i = 0; i < kMessages; ++i) {
      comm.recv(&got, sizeof got, prev_of(comm), kTag);
      ASSERT_EQ(got, prev_of(comm) * 1000 + i);
    }
    for (auto& send : sends) send.wait();
  });
}

TEST(InProcessMessages, ReceiveBufferMayBeLargerButNotSmaller) {
  run_ranks(2, [](comm::Communicator& comm) {
    const std::vector<int64_t> out = {1, 2, 3};
    if (comm.rank() == 0) {
      comm.send(out.data(), out.size() * sizeof(int64_t), 1, kTag);
      comm.send(out.data(), out.size() * sizeof(int64_t), 1, kTag);
      return;
    }
    std::vector<int64_t> big(10, -1);
    comm.recv(big.data(), big.size() * sizeof(int64_t), 0, kTag);
    EXPECT_EQ(big[2], 3);
    EXPECT_EQ(big[3], -1);
    int64_t small[2] = {};
    try {
      comm.recv(small, sizeof small, 0, kTag);
      ADD_FAILURE() << "a message larger than the buffer is an error";
    } catch (const comm::CommFailure& e) {
      EXPECT_NE(std::string(e.what()).find("larger than the receive buffer"), std::string::npos)
          << e.what();
    }
  });
}

TEST(InProcessMessages, AReceiveThatNeverComesTimesOutNamingThePeer) {
  run_ranks(3, [](comm::Communicator& comm) {
    comm.set_timeout(std::chrono::milliseconds(200));
    if (comm.rank() != 0) return;
    int x = 0;
    try {
      comm.irecv(&x, sizeof x, 2, kTag, "reply of server rank 2 to step 40").wait();
      ADD_FAILURE() << "no timeout";
    } catch (const comm::CommTimeout& e) {
      EXPECT_NE(std::string(e.what()).find(
                    "waiting for reply of server rank 2 to step 40 (rank 0 waiting on rank 2)"),
                std::string::npos)
          << e.what();
    }
  });
}

// As gossip does: the training thread all-reduces while a second thread of the
// same rank answers its peers on the same communicator.
TEST(InProcessMessages, TwoThreadsOfOneRankUseItAtOnce) {
  constexpr int kRounds = 50;
  run_ranks(kRanks, [](comm::Communicator& comm) {
    std::thread exchange([&] {
      for (int i = 0; i < kRounds; ++i) {
        int out = comm.rank() * 100 + i, in = -1;
        auto receive = comm.irecv(&in, sizeof in, prev_of(comm), kTag);
        comm.issend(&out, sizeof out, next_of(comm), kTag).wait();
        receive.wait();
        EXPECT_EQ(in, prev_of(comm) * 100 + i);
      }
    });
    for (int i = 0; i < kRounds; ++i) {
      int64_t x = i;
      comm.allreduce(&x, 1, comm::DType::i64, comm::ReduceOp::sum, "training");
      EXPECT_EQ(x, int64_t{kRanks} * i);
    }
    exchange.join();
  });
}

TEST(InProcessMessages, EmptyRequests) {
  comm::Request empty;
  EXPECT_FALSE(empty.valid());
  EXPECT_THROW(empty.test(), comm::CommFailure);
  EXPECT_THROW(empty.wait(), comm::CommFailure);
  EXPECT_FALSE(empty.cancel());
  EXPECT_EQ(empty.elapsed_s(), 0.0);
  auto group = comm::make_in_process_group(1);
  auto barrier = group[0].ibarrier("one rank");
  EXPECT_THROW(barrier.cancel(), comm::CommFailure) << "collectives cannot be cancelled";
  auto other = group[0].ibarrier("another");
  EXPECT_THROW(other.release(), comm::CommFailure) << "nor released";
  EXPECT_THROW(group[0].isend(nullptr, 0, 1, kTag), comm::CommFailure) << "no rank 1";
  EXPECT_THROW(comm::make_in_process_group(0), comm::CommFailure);
}

}  // namespace
}  // namespace distsgd::testing
