#include "metrics/progress_line.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace distsgd::metrics {

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled), terminal_(::isatty(STDERR_FILENO) == 1) {}

void ProgressLine::update(const Progress& p, bool force) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < std::chrono::seconds(1)) return;
  last_ = now;
  const auto eta = static_cast<int64_t>(p.eta_s);
  std::string line = fmt::format(
      "epoch {}/{}  step {}/{}  loss {:.4f}  acc {:.3f}{}  lr {:.4g}  {:.0f} samples/s  ETA {}:{:02d}",
      p.epoch + 1, p.epochs, p.step, p.total_steps, p.loss, p.train_accuracy,
      p.test_accuracy ? fmt::format("  test {:.4f}", *p.test_accuracy) : std::string(), p.lr,
      p.samples_per_s, eta / 60, eta % 60);
  if (terminal_) {
    fmt::print(stderr, "\r{:<110}", line);
    open_line_ = true;
  } else {
    fmt::print(stderr, "{}\n", line);
  }
  std::fflush(stderr);
}

void ProgressLine::done() {
  if (open_line_) fmt::print(stderr, "\n");
  open_line_ = false;
}

}  // namespace distsgd::metrics
