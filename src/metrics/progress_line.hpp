#pragma once
// The progress line rank 0 shows while training: epoch, step/total, loss,
// accuracy, learning rate, samples/s and ETA, at most once a second. On a
// terminal it rewrites one line; in a log it appends lines.
#include <chrono>
#include <cstdint>
#include <optional>

namespace distsgd::metrics {

struct Progress {
  int64_t epoch = 0;
  int64_t epochs = 0;
  int64_t step = 0;
  int64_t total_steps = 0;
  double loss = 0.0;
  double train_accuracy = 0.0;
  std::optional<double> test_accuracy;
  double lr = 0.0;
  double samples_per_s = 0.0;
  double eta_s = 0.0;
};

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled);
  // Shows `progress` if a second has passed since the last line (or if forced).
  void update(const Progress& progress, bool force = false);
  // Ends the line on a terminal.
  void done();

 private:
  bool enabled_;
  bool terminal_;
  bool open_line_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace distsgd::metrics
