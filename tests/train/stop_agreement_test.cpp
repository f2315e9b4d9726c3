// Where the epoch-end stop vote happens: the first epoch end every worker
// reaches (past a resumed checkpoint's furthest step, before training ends).
#include <gtest/gtest.h>

#include "train/stop_agreement.hpp"

namespace distsgd {
namespace {

TEST(NextSharedEpochEnd, TheEpochEndAtOrAfterTheStep) {
  const EpochEnds ends{10, 100, -1, true};
  EXPECT_EQ(next_shared_epoch_end(10, ends), 10);
  EXPECT_EQ(next_shared_epoch_end(11, ends), 20);
  EXPECT_EQ(next_shared_epoch_end(19, ends), 20);
  EXPECT_EQ(next_shared_epoch_end(100, ends), 100);
}

TEST(NextSharedEpochEnd, SkipsThoseAtOrBeforeTheResumedMaxStep) {
  const EpochEnds ends{10, 100, 30, true};
  EXPECT_EQ(next_shared_epoch_end(25, ends), 40);
  EXPECT_EQ(next_shared_epoch_end(30, ends), 40);
  EXPECT_EQ(next_shared_epoch_end(31, ends), 40);
}

TEST(NextSharedEpochEnd, NoneAfterTheLastStep) {
  const EpochEnds ends{10, 95, -1, true};  // e.g. --max-steps 95
  EXPECT_EQ(next_shared_epoch_end(85, ends), 90);
  EXPECT_EQ(next_shared_epoch_end(91, ends), -1);
}

}  // namespace
}  // namespace distsgd
