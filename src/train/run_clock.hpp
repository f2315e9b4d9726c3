#pragma once
// Splits a run's wall time into training time, evaluation time and checkpoint
// time, so that throughput and time-to-accuracy count training only, and the
// time spent writing checkpoints (and bringing the job to a point where one
// can be taken) is not passed off as evaluation. A resumed run continues the
// training and evaluation clocks of its checkpoint; checkpoint time counts
// this run's checkpoints only (checkpoints do not record it).
//
// Pauses do not nest: a pause started while another is running would count
// its time twice.
#include <chrono>
#include <optional>

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
  double eval_s() const { return eval_offset_s_ + paused_s(Bucket::evaluation); }
  double checkpoint_s() const { return paused_s(Bucket::checkpoint); }
  double train_s() const {
    return train_offset_s_ + wall_s() - paused_s(Bucket::evaluation) -
           paused_s(Bucket::checkpoint);
  }

  enum class Bucket { evaluation, checkpoint };
  // While the guard lives, time counts in its bucket instead of training.
  class Pause {
   public:
    Pause(RunClock& clock, Bucket bucket) : clock_(clock), bucket_(bucket) {
      clock_.pause_start_ = Clock::now();
      clock_.running_ = bucket;
    }
    ~Pause() {
      clock_.paused_[static_cast<int>(bucket_)] += since(clock_.pause_start_);
      clock_.running_.reset();
    }
    Pause(const Pause&) = delete;
    Pause& operator=(const Pause&) = delete;

   private:
    RunClock& clock_;
    Bucket bucket_;
  };
  [[nodiscard]] Pause pause_for_evaluation() { return Pause(*this, Bucket::evaluation); }
  [[nodiscard]] Pause pause_for_checkpoint() { return Pause(*this, Bucket::checkpoint); }

 private:
  static double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  }
  // Finished pauses of `bucket`, plus the running one if it is of that bucket.
  double paused_s(Bucket bucket) const {
    return paused_[static_cast<int>(bucket)] +
           (running_ == bucket ? since(pause_start_) : 0.0);
  }
  Clock::time_point start_ = Clock::now();
  Clock::time_point pause_start_{};
  std::optional<Bucket> running_;  // the bucket of the pause under way
  double paused_[2] = {0.0, 0.0};
  double train_offset_s_ = 0.0;
  double eval_offset_s_ = 0.0;
};

}  // namespace distsgd
