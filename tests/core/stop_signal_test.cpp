// SIGTERM and SIGINT as a request to stop (install_stop_handlers): the signal
// is recorded, not fatal, and the handler prints one line with the resume hint.
// The signal handlers and the recorded signal are process-wide and cannot be
// reset, so each case raises its signals in a child process of its own (a
// death test whose child exits with 0 when every check in it held).
#include "core/stop_signal.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace distsgd {
namespace {

// In the child: a failed check ends it with a message and a status that the
// parent's EXPECT_EXIT reports.
#define CHILD_CHECK(condition)                                      \
  do {                                                              \
    if (!(condition)) {                                             \
      std::fprintf(stderr, "child check failed: %s\n", #condition); \
      std::_Exit(3);                                                \
    }                                                               \
  } while (false)

class StopSignal : public ::testing::Test {
 protected:
  // Re-executes the test binary for the child: LibTorch's threads make fork
  // alone unsafe.
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(StopSignal, SigtermIsRecordedAndTheProcessLivesOn) {
  EXPECT_EXIT(
      {
        install_stop_handlers(3);
        CHILD_CHECK(stop_signal() == 0);
        std::raise(SIGTERM);
        CHILD_CHECK(stop_signal() == SIGTERM);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0),
      "distsgd: rank 3: stop requested by a signal; it stops at the next step boundary "
      "\\(no checkpoint yet\\)");
}

TEST_F(StopSignal, SigintIsRecorded) {
  EXPECT_EXIT(
      {
        install_stop_handlers(0);
        std::raise(SIGINT);
        CHILD_CHECK(stop_signal() == SIGINT);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "distsgd: rank 0: stop requested by a signal");
}

TEST_F(StopSignal, TheHandlerStaysInstalledForASecondSignal) {
  // A second SIGTERM (a scheduler repeating itself) must not kill the process
  // before it has written its checkpoint.
  EXPECT_EXIT(
      {
        install_stop_handlers(1);
        std::raise(SIGTERM);
        std::raise(SIGTERM);
        CHILD_CHECK(stop_signal() == SIGTERM);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0),
      "rank 1: stop requested.*\n.*rank 1: stop requested");  // the line, twice
}

TEST_F(StopSignal, TheLineNamesTheLatestResumeHint) {
  EXPECT_EXIT(
      {
        install_stop_handlers(2);
        set_resume_hint("last checkpoint: /runs/a/checkpoint-epoch1.ckpt");
        set_resume_hint("last checkpoint: /runs/a/checkpoint-epoch2.ckpt");
        std::raise(SIGTERM);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0),
      "^distsgd: rank 2: stop requested by a signal; it stops at the next step boundary "
      "\\(last checkpoint: /runs/a/checkpoint-epoch2\\.ckpt\\)\n$");
}

TEST_F(StopSignal, WithoutHandlersSigtermStillEndsTheProcess) {
  // What the handlers change: without them SIGTERM is fatal.
  EXPECT_EXIT(std::raise(SIGTERM), ::testing::KilledBySignal(SIGTERM), "");
}

TEST(SignalName, NamesTheStopSignalsAndNumbersOthers) {
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
  EXPECT_EQ(signal_name(SIGHUP), "signal " + std::to_string(SIGHUP));
  EXPECT_EQ(signal_name(0), "signal 0");
}

}  // namespace
}  // namespace distsgd
