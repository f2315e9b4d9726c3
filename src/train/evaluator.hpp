#pragma once
// The run's evaluations: what is scored (the replica, or what the method
// prepares, swapped into the model for the time of the evaluation), on which
// workers (traits().evaluation), and the bookkeeping of the results: the
// metrics record, the best accuracy and the time to --target-accuracy. Time
// spent here counts as evaluation time on the run clock.
//
// Scoring itself (the model on the test set, evaluation.hpp) is given as a
// function, so this piece needs no LibTorch.
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "comm/communicator.hpp"
#include "train/eval_result.hpp"
#include "train/run_clock.hpp"
#include "train/training_position.hpp"

namespace distsgd {

namespace metrics {
class JsonlWriter;
}

// While it lives, the replica's parameters and buffers may hold other values;
// on scope exit, by an exception too, the replica's own are back.
class ScopedSwap {
 public:
  // Saves the replica's parameters and buffers (the caller writes others in).
  explicit ScopedSwap(ReplicaView replica);
  // Saves them, then writes `values`' parameters and buffers in their place
  // (of the same sizes).
  ScopedSwap(ReplicaView replica, ReplicaView values);
  ~ScopedSwap();
  ScopedSwap(const ScopedSwap&) = delete;
  ScopedSwap& operator=(const ScopedSwap&) = delete;

 private:
  ReplicaView replica_;
  std::vector<float> own_params_, own_buffers_;
};

// Scores the model's parameters as they are on the test set; collective over
// the communicator given (every rank of it scores its slice). whole_set: the
// final evaluation scores the whole test set; those during training the
// --eval-samples subset.
using ScoreModel = std::function<EvalResult(comm::Communicator&, bool whole_set)>;

class Evaluator {
 public:
  struct Setup {
    MethodTraits::Evaluation who;
    comm::Communicator& workers;
    comm::Communicator& solo;  // this rank alone
    std::optional<double> target_accuracy;
    int64_t steps_per_epoch;
  };
  Evaluator(Setup setup, ScoreModel score, Algorithm& method, metrics::JsonlWriter& metrics,
            RunClock& clock)
      : setup_(setup), score_(std::move(score)), method_(method), metrics_(metrics),
        clock_(clock) {}

  // An evaluation at `position` during training (on the workers that
  // traits().evaluation names; the others return at once), or the final one
  // after finish(), in which every worker takes part and worker 0's own
  // replica is scored as well. Updates the position's best accuracy and time
  // to target.
  void evaluate(ReplicaView replica, TrainingPosition& position, bool final = false);

  const std::optional<EvalResult>& last() const { return last_; }
  // The final evaluation of worker 0's own replica (when the method scored
  // something else, e.g. the servers' centre).
  const std::optional<EvalResult>& local() const { return local_; }
  // What the final evaluation scored.
  std::span<const float> final_params(ReplicaView replica) const;

 private:
  EvalResult score_worker0_replica(ReplicaView replica);

  Setup setup_;
  ScoreModel score_;
  Algorithm& method_;
  metrics::JsonlWriter& metrics_;
  RunClock& clock_;
  std::optional<EvalResult> last_, local_;
  std::vector<float> evaluated_params_;  // what the final evaluation scored, when not the replica
};

// The bookkeeping of one evaluation's `accuracy` after `train_s` seconds of
// training: the best accuracy and, the first time it reaches `target`, the
// training time and epochs it took.
void record_accuracy(TrainingPosition& position, double accuracy, double train_s,
                     std::optional<double> target, int64_t steps_per_epoch);

}  // namespace distsgd
