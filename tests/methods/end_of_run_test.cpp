// The end-of-run handshake shared by parameter servers and gossip's rank 0.
#include "methods/end_of_run.hpp"

#include <gtest/gtest.h>

namespace distsgd {
namespace {

TEST(EndOfRun, AWaitingMemberIsAnsweredEveryHeartbeatWithTheCountStillTraining) {
  EndOfRun end(3, /*heartbeat_s=*/1.0);
  end.finished(0, 10.0);
  EXPECT_TRUE(end.done(0));
  EXPECT_EQ(end.training(), 2);
  EXPECT_TRUE(end.answers(10.5).empty()) << "answered before the heartbeat";
  const auto answers = end.answers(11.0);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].member, 0);
  EXPECT_EQ(answers[0].training, 2);
  EXPECT_FALSE(end.released(0));
  EXPECT_FALSE(end.waiting(0));
  EXPECT_TRUE(end.answers(20.0).empty()) << "answered again without asking again";
}

TEST(EndOfRun, TheLastToFinishReleasesEveryWaitingMemberAtOnce) {
  EndOfRun end(3, 1.0);
  end.finished(0, 0.0);
  end.finished(1, 0.1);
  end.finished(2, 0.2);
  const auto answers = end.answers(0.2);  // no heartbeat needed: everyone is done
  ASSERT_EQ(answers.size(), 3u);
  for (const auto& answer : answers) EXPECT_EQ(answer.training, 0);
  EXPECT_TRUE(end.all_released());
  EXPECT_EQ(end.released_count(), 3);
}

TEST(EndOfRun, ADroppedMemberCountsAsFinishedAndReleased) {
  EndOfRun end(2, 1.0);
  end.drop(1);
  EXPECT_EQ(end.training(), 1);
  EXPECT_TRUE(end.released(1));
  end.finished(0, 5.0);
  const auto answers = end.answers(5.0);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].member, 0);
  EXPECT_EQ(answers[0].training, 0);
  EXPECT_TRUE(end.all_released());
}

// Gossip's --survive-worker-loss: rank 0 drops a node still training that has
// not been heard from past the deadline; the others can then be released.
TEST(EndOfRun, AMemberStillTrainingSilentPastTheDeadlineIsDroppedAFinishedOneIsNot) {
  EndOfRun end(3, 1.0);
  for (int m = 0; m < 3; ++m) end.heard(m, 100.0);
  end.finished(2, 101.0);  // finished, then silent: it is waiting, not lost
  end.heard(0, 109.0);
  EXPECT_TRUE(end.drop_silent(110.0, 10.0).empty()) << "nobody silent for more than 10 s yet";
  EXPECT_EQ(end.drop_silent(110.5, 10.0), (std::vector<int>{1}));
  EXPECT_TRUE(end.released(1));
  EXPECT_EQ(end.drop_silent(130.0, 10.0), (std::vector<int>{0}))
      << "member 0, still training and silent since 109, is dropped at 130";
  EXPECT_EQ(end.training(), 0);
  EXPECT_FALSE(end.released(2)) << "a finished member is answered, never dropped";
  const auto answers = end.answers(130.0);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].member, 2);
  EXPECT_EQ(answers[0].training, 0);
  EXPECT_TRUE(end.all_released());
}

}  // namespace
}  // namespace distsgd
