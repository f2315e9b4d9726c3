// Collectives of the in-process transport, 16 ranks on 16 threads: exact
// results of every reduction and data type on every rank, many in flight,
// broadcast, all-gather, split and subset, and the deadlines that name the
// ranks that have not joined.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <latch>
#include <numeric>
#include <string>
#include <vector>

#include "in_process_ranks.hpp"

namespace distsgd::testing {
namespace {

using comm::DType;
using comm::ReduceOp;

// Small integers: exact in every type, and a sum of 16 of them fits in u8.
template <typename T>
T value(int rank, std::size_t i) {
  return static_cast<T>((rank * 7 + static_cast<int>(i) * 3) % 11);
}

template <typename T>
void expect_exact_reduction(DType type, ReduceOp op) {
  constexpr std::size_t kCount = 37;
  std::vector<T> expected(kCount);
  for (std::size_t i = 0; i < kCount; ++i) {
    T e = value<T>(0, i);
    for (int r = 1; r < kRanks; ++r) {
      const T v = value<T>(r, i);
      e = op == ReduceOp::sum   ? static_cast<T>(e + v)
          : op == ReduceOp::max ? std::max(e, v)
                                : std::min(e, v);
    }
    expected[i] = e;
  }
  run_ranks(kRanks, [&](comm::Communicator& comm) {
    std::vector<T> data(kCount);
    for (std::size_t i = 0; i < kCount; ++i) data[i] = value<T>(comm.rank(), i);
    comm.allreduce(data.data(), data.size(), type, op, "test vector");
    EXPECT_EQ(data, expected) << "rank " << comm.rank();
  });
}

TEST(InProcessCollectives, AllReduceIsExactForEveryTypeAndOperation) {
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min}) {
    SCOPED_TRACE(static_cast<int>(op));
    expect_exact_reduction<float>(DType::f32, op);
    expect_exact_reduction<double>(DType::f64, op);
    expect_exact_reduction<int64_t>(DType::i64, op);
    expect_exact_reduction<uint8_t>(DType::u8, op);
  }
}

TEST(InProcessCollectives, ManyAllReducesInFlightCompleteInOrder) {
  constexpr int kBuckets = 64;
  run_ranks(kRanks, [](comm::Communicator& comm) {
    std::vector<std::vector<int64_t>> buckets(kBuckets);
    std::vector<comm::Request> pending;
    for (int b = 0; b < kBuckets; ++b) {
      buckets[b].assign(static_cast<std::size_t>(b + 1), comm.rank() + b);
      pending.push_back(comm.iallreduce(buckets[b].data(), buckets[b].size(), DType::i64,
                                        ReduceOp::sum, "bucket " + std::to_string(b)));
    }
    // The last one done means every rank has started all of them: all are done.
    pending.back().wait();
    for (int b = 0; b < kBuckets; ++b) {
      EXPECT_TRUE(pending[b].test()) << "bucket " << b;
      const int64_t sum = kRanks * (kRanks - 1) / 2 + int64_t{kRanks} * b;
      EXPECT_EQ(buckets[b], std::vector<int64_t>(static_cast<std::size_t>(b + 1), sum));
      EXPECT_GE(pending[b].elapsed_s(), 0.0);
    }
  });
}

TEST(InProcessCollectives, BroadcastAndAllGather) {
  run_ranks(kRanks, [](comm::Communicator& comm) {
    for (int root : {0, 5, kRanks - 1}) {
      std::vector<double> data(100, comm.rank() == root ? 0.0 : -1.0);
      if (comm.rank() == root) std::iota(data.begin(), data.end(), root * 1000.0);
      comm.broadcast(data.data(), data.size() * sizeof(double), root, "test data");
      EXPECT_EQ(data[0], root * 1000.0);
      EXPECT_EQ(data[99], root * 1000.0 + 99);
    }
    const int64_t mine[2] = {comm.rank(), comm.rank() * comm.rank()};
    std::vector<int64_t> all(2 * kRanks, -1);
    comm.allgather(mine, all.data(), sizeof mine, "squares");
    for (int r = 0; r < kRanks; ++r) {
      EXPECT_EQ(all[2 * r], r);
      EXPECT_EQ(all[2 * r + 1], r * r);
    }
    comm.barrier("end");
    auto barrier = comm.ibarrier("end, non-blocking");
    barrier.wait();
    EXPECT_TRUE(barrier.test());
  });
}

TEST(InProcessCollectives, SplitIntoTwoColoursOrderedByKey) {
  run_ranks(kRanks, [](comm::Communicator& world) {
    const int colour = world.rank() % 2;
    // Reverse order within a colour: the highest rank becomes rank 0.
    auto half = world.split(colour, -world.rank(), "halves");
    ASSERT_EQ(half.size(), kRanks / 2);
    EXPECT_EQ(half.rank(), (kRanks - 1 - world.rank()) / 2);
    EXPECT_EQ(half.timeout_s(), world.timeout_s());
    int64_t sum = world.rank();
    half.allreduce(&sum, 1, DType::i64, ReduceOp::sum, "colour sum");
    int64_t expected = 0;
    for (int r = colour; r < kRanks; r += 2) expected += r;
    EXPECT_EQ(sum, expected);
    int root_rank = world.rank();
    half.broadcast(&root_rank, sizeof root_rank, 0, "who is rank 0");
    EXPECT_EQ(root_rank, kRanks - 2 + colour);
    // The parent still works, and so does a split of a split.
    world.barrier("after split");
    auto solo = half.split(half.rank(), 0, "own rank");
    EXPECT_EQ(solo.size(), 1);
    solo.allreduce(&sum, 1, DType::i64, ReduceOp::max, "alone");
    EXPECT_EQ(sum, expected);
  });
}

TEST(InProcessCollectives, SubsetOfRanksWithoutTheOthers) {
  const std::vector<int> chosen = {1, 4, 5, 9, 12};
  run_ranks(kRanks, [&](comm::Communicator& world) {
    const bool member = std::count(chosen.begin(), chosen.end(), world.rank()) > 0;
    std::vector<int> rest;
    for (int r = 0; r < kRanks; ++r)
      if (std::count(chosen.begin(), chosen.end(), r) == 0) rest.push_back(r);
    const auto& mine = member ? chosen : rest;
    EXPECT_THROW(world.subset(member ? rest : chosen, "the others"), comm::CommFailure);
    // Each subset is collective over its members alone: the two form at once.
    auto some = world.subset(mine, "my side");
    ASSERT_EQ(some.size(), static_cast<int>(mine.size()));
    EXPECT_EQ(some.rank(), std::find(mine.begin(), mine.end(), world.rank()) - mine.begin());
    int old_rank = world.rank();
    std::vector<int> all(mine.size(), -1);
    some.allgather(&old_rank, all.data(), sizeof old_rank, "old ranks");
    EXPECT_EQ(all, mine);
    float x = static_cast<float>(old_rank);
    some.allreduce(&x, 1, DType::f32, ReduceOp::sum, "sum of old ranks");
    EXPECT_EQ(x, static_cast<float>(std::accumulate(mine.begin(), mine.end(), 0)));
    if (!member) return;
    // A second subset of the same ranks is another group; and the handle is a
    // value, replaced in place as the survivors' code does.
    auto again = world.subset(chosen, "chosen ranks, again");
    again.barrier("again");
    world = world.subset(chosen, "survivors");
    EXPECT_EQ(world.size(), static_cast<int>(chosen.size()));
    int64_t one = 1;
    world.allreduce(&one, 1, DType::i64, ReduceOp::sum, "count of survivors");
    EXPECT_EQ(one, static_cast<int64_t>(chosen.size()));
  });
}

// The collective that rank 15 never joins: every other rank times out with a
// message naming the operation and rank 15 as the one not joined.
TEST(InProcessCollectives, ARankThatNeverJoinsMakesTheOthersTimeOut) {
  std::latch others_done(kRanks - 1);
  run_ranks(kRanks, [&](comm::Communicator& comm) {
    comm.set_timeout(std::chrono::milliseconds(400));
    comm.set_stall_warning(std::chrono::seconds(0));
    if (comm.rank() == kRanks - 1) {
      others_done.wait();
      return;
    }
    float x = 1.0f;
    try {
      comm.allreduce(&x, 1, DType::f32, ReduceOp::sum, "gradient bucket 3");
      ADD_FAILURE() << "rank " << comm.rank() << ": no timeout";
    } catch (const comm::CommTimeout& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("all-reduce of gradient bucket 3"), std::string::npos) << message;
      EXPECT_NE(message.find("not joined: rank 15 (has started no collective)"), std::string::npos)
          << message;
      EXPECT_NE(message.find("joined: ranks 0-14"), std::string::npos) << message;
    }
    EXPECT_EQ(x, 1.0f) << "an abandoned collective leaves the buffer alone";
    others_done.count_down();
  });
}

TEST(InProcessCollectives, ARankInAnEarlierCollectiveIsNamedWithIt) {
  std::latch others_done(3);
  run_ranks(4, [&](comm::Communicator& comm) {
    comm.set_timeout(std::chrono::milliseconds(300));
    comm.barrier("first");
    if (comm.rank() == 2) {
      others_done.wait();
      return;
    }
    try {
      comm.barrier("second");
      ADD_FAILURE() << "no timeout";
    } catch (const comm::CommTimeout& e) {
      EXPECT_NE(std::string(e.what()).find("not joined: rank 2 (its last collective: #1)"),
                std::string::npos)
          << e.what();
    }
    others_done.count_down();
  });
}

TEST(InProcessCollectives, CollectivesStartedInADifferentOrderFailOnEveryRank) {
  run_ranks(4, [](comm::Communicator& comm) {
    std::vector<float> data(comm.rank() == 3 ? 5 : 4, 1.0f);
    EXPECT_THROW(comm.allreduce(data.data(), data.size(), DType::f32, ReduceOp::sum, "bucket"),
                 comm::CommFailure);
    comm.barrier("still usable after");
  });
}

TEST(InProcessCollectives, OneRankSpeaksForAStall) {
  ::testing::internal::CaptureStderr();
  std::latch others_done(3);
  run_ranks(4, [&](comm::Communicator& comm) {
    comm.set_timeout(std::chrono::milliseconds(450));
    comm.set_stall_warning(std::chrono::milliseconds(200));
    if (comm.rank() == 0) {
      others_done.wait();
      return;
    }
    EXPECT_THROW(comm.barrier("stalled"), comm::CommTimeout);
    others_done.count_down();
  });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("distsgd: stall: rank 1 has waited"), std::string::npos) << err;
  EXPECT_EQ(err.find("stall: rank 2"), std::string::npos) << err;
  EXPECT_NE(err.find("not joined: rank 0"), std::string::npos) << err;
}

// 15 ranks waiting half a second for the 16th cost (almost) no processor time:
// they sleep on the group's condition variable, 16 threads on 2 cores.
TEST(InProcessCollectives, WaitingRanksSleep) {
  const std::clock_t start = std::clock();
  run_ranks(kRanks, [](comm::Communicator& comm) {
    if (comm.rank() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    comm.barrier("late rank 0");
  });
  const double cpu_s = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  EXPECT_LT(cpu_s, 0.2) << "processor time of 15 waiting ranks over 0.5 s";
}

}  // namespace
}  // namespace distsgd::testing
