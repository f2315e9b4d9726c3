#pragma once
// Splits a run's wall time into training time and evaluation time (evaluation,
// checkpoints, summaries), so that throughput and time-to-accuracy count
// training only. A resumed run continues the clocks of its checkpoint.
#include <chrono>

namespace distsgd {

class RunClock {
 public:
  using Clock = std::chrono::steady_clock;

  void start() { start_ = Clock::now(); }
  void resume_from(double train_s, double eval_s) {
    train_offset_s_ = train_s;
    eval_offset_s_ = eval_s;
  }
  double wall_s() const { return since(start_); }
  double eval_s() const { return eval_offset_s_ + paused_s_ + (pausing_ ? since(pause_start_) : 0.0); }
  double train_s() const { return train_offset_s_ + wall_s() - (eval_s() - eval_offset_s_); }

  // While the returned guard lives, time counts as evaluation time.
  class Pause {
   public:
    explicit Pause(RunClock& clock) : clock_(clock) {
      clock_.pause_start_ = Clock::now();
      clock_.pausing_ = true;
    }
    ~Pause() {
      clock_.paused_s_ += since(clock_.pause_start_);
      clock_.pausing_ = false;
    }
    Pause(const Pause&) = delete;
    Pause& operator=(const Pause&) = delete;

   private:
    RunClock& clock_;
  };
  [[nodiscard]] Pause pause_for_evaluation() { return Pause(*this); }

 private:
  static double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  }
  Clock::time_point start_ = Clock::now();
  Clock::time_point pause_start_{};
  bool pausing_ = false;
  double paused_s_ = 0.0;
  double train_offset_s_ = 0.0;
  double eval_offset_s_ = 0.0;
};

}  // namespace distsgd
