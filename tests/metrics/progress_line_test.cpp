// ProgressLine: the line rank 0 prints on stderr while training. In a log it
// appends one line per update; on a terminal it rewrites one line and done()
// ends it; it shows at most one line a second unless forced; disabled, nothing.
#include "metrics/progress_line.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace distsgd::metrics {
namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

Progress sample_progress() {
  Progress p;
  p.epoch = 1;  // 0-based: the second epoch
  p.epochs = 3;
  p.step = 150;
  p.total_steps = 300;
  p.loss = 0.25;
  p.train_accuracy = 0.9;
  p.test_accuracy = 0.875;
  p.lr = 0.05;
  p.samples_per_s = 1234.4;
  p.eta_s = 125.9;
  return p;
}

const std::string kSampleLine =
    "epoch 2/3  step 150/300  loss 0.2500  acc 0.900  test 0.8750  lr 0.05  1234 samples/s  "
    "ETA 2:05";

// What `body` prints on stderr (a file: not a terminal). The ProgressLine must
// be made inside `body`, after stderr is redirected.
template <typename Body>
std::string stderr_of(Body body) {
  CaptureStderr();
  body();
  return GetCapturedStderr();
}

TEST(ProgressLine, InALogAForcedUpdateAppendsOneLine) {
  const auto out = stderr_of([] {
    ProgressLine line(true);
    line.update(sample_progress(), true);
  });
  EXPECT_EQ(out, kSampleLine + "\n");
}

TEST(ProgressLine, WithoutATestAccuracyThereIsNoTestField) {
  auto p = sample_progress();
  p.test_accuracy.reset();
  const auto out = stderr_of([&] {
    ProgressLine line(true);
    line.update(p, true);
  });
  EXPECT_EQ(out,
            "epoch 2/3  step 150/300  loss 0.2500  acc 0.900  lr 0.05  1234 samples/s  ETA 2:05\n");
}

TEST(ProgressLine, EtaIsMinutesAndSecondsPastAnHour) {
  auto p = sample_progress();
  p.eta_s = 3725.0;  // 62 min 5 s
  const auto out = stderr_of([&] {
    ProgressLine line(true);
    line.update(p, true);
  });
  EXPECT_NE(out.find("ETA 62:05\n"), std::string::npos) << out;
}

TEST(ProgressLine, DisabledPrintsNothing) {
  const auto out = stderr_of([] {
    ProgressLine line(false);
    line.update(sample_progress(), true);
    line.update(sample_progress());
    line.done();
  });
  EXPECT_EQ(out, "");
}

TEST(ProgressLine, ForcedUpdatesAreNeverHeldBack) {
  const auto out = stderr_of([] {
    ProgressLine line(true);
    line.update(sample_progress(), true);
    line.update(sample_progress(), true);
    line.update(sample_progress(), true);
    line.done();  // in a log there is no open line to end
  });
  EXPECT_EQ(out, kSampleLine + "\n" + kSampleLine + "\n" + kSampleLine + "\n");
}

TEST(ProgressLine, TheFirstUpdateShowsAndTheNextWithinASecondDoesNot) {
  // The steady clock's epoch is boot time: the first line is due at once.
  if (std::chrono::steady_clock::now().time_since_epoch() < std::chrono::seconds(2))
    GTEST_SKIP() << "the machine booted a moment ago";
  std::chrono::steady_clock::duration elapsed{};
  const auto out = stderr_of([&] {
    ProgressLine line(true);
    const auto start = std::chrono::steady_clock::now();
    line.update(sample_progress());
    line.update(sample_progress());
    elapsed = std::chrono::steady_clock::now() - start;
  });
  // Held back only when it came within a second of the first; the check is
  // made only then (no bound on time is asserted).
  if (elapsed >= std::chrono::seconds(1)) GTEST_SKIP() << "the two updates were a second apart";
  EXPECT_EQ(out, kSampleLine + "\n");
}

// A pseudo-terminal as stderr for the duration of a test.
class TerminalStderr {
 public:
  TerminalStderr() {
    master_ = posix_openpt(O_RDWR | O_NOCTTY);
    if (master_ < 0 || grantpt(master_) != 0 || unlockpt(master_) != 0) return;
    const char* name = ptsname(master_);
    if (name == nullptr) return;
    slave_ = open(name, O_RDWR | O_NOCTTY);
    if (slave_ < 0) return;
    termios mode{};
    tcgetattr(slave_, &mode);
    cfmakeraw(&mode);  // bytes as written: no "\n" -> "\r\n"
    tcsetattr(slave_, TCSANOW, &mode);
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    dup2(slave_, STDERR_FILENO);
  }
  ~TerminalStderr() {
    restore();
    if (slave_ >= 0) close(slave_);
    if (master_ >= 0) close(master_);
  }
  bool ok() const { return saved_ >= 0; }
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    saved_ = -1;
  }
  // Everything written to the terminal so far.
  std::string read_written() {
    std::string out;
    char buffer[4096];
    pollfd fd{master_, POLLIN, 0};
    while (poll(&fd, 1, 200) > 0 && (fd.revents & POLLIN)) {
      const ssize_t n = read(master_, buffer, sizeof buffer);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int master_ = -1;
  int slave_ = -1;
  int saved_ = -1;
};

TEST(ProgressLine, OnATerminalItRewritesOneLineAndDoneEndsIt) {
  TerminalStderr terminal;
  if (!terminal.ok()) GTEST_SKIP() << "no pseudo-terminal";
  {
    ProgressLine line(true);
    line.update(sample_progress(), true);
    line.update(sample_progress(), true);
    line.done();
    line.done();  // the line is ended once
  }
  terminal.restore();
  const std::string padded = kSampleLine + std::string(110 - kSampleLine.size(), ' ');
  EXPECT_EQ(terminal.read_written(), "\r" + padded + "\r" + padded + "\n");
}

}  // namespace
}  // namespace distsgd::metrics
