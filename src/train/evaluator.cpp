#include "train/evaluator.hpp"

#include <algorithm>

#include "core/timeline.hpp"
#include "metrics/jsonl_writer.hpp"

namespace distsgd {

ScopedSwap::ScopedSwap(ReplicaView replica)
    : replica_(replica),
      own_params_(replica.params.begin(), replica.params.end()),
      own_buffers_(replica.buffers.begin(), replica.buffers.end()) {}

ScopedSwap::ScopedSwap(ReplicaView replica, ReplicaView values) : ScopedSwap(replica) {
  std::copy(values.params.begin(), values.params.end(), replica_.params.begin());
  std::copy(values.buffers.begin(), values.buffers.end(), replica_.buffers.begin());
}

ScopedSwap::~ScopedSwap() {
  std::copy(own_params_.begin(), own_params_.end(), replica_.params.begin());
  std::copy(own_buffers_.begin(), own_buffers_.end(), replica_.buffers.begin());
}

void record_accuracy(TrainingPosition& position, double accuracy, double train_s,
                     std::optional<double> target, int64_t steps_per_epoch) {
  position.best_test_accuracy = std::max(position.best_test_accuracy, accuracy);
  if (target && !position.time_to_target_s && accuracy >= *target) {
    position.time_to_target_s = train_s;
    position.epochs_to_target =
        static_cast<double>(position.step) / static_cast<double>(steps_per_epoch);
  }
}

void Evaluator::evaluate(ReplicaView replica, TrainingPosition& position, bool final) {
  // During training, asynchronous methods evaluate on worker 0 alone (workers
  // may be at different steps); at the end every worker takes part.
  const bool alone = setup_.who == MethodTraits::Evaluation::worker0 && !final;
  if (alone && setup_.workers.rank() != 0) return;
  auto& comm = alone ? setup_.solo : setup_.workers;
  auto pause = clock_.pause_for_evaluation();
  timeline::Span span(final ? "final evaluation" : "evaluation", "evaluation", "step",
                      position.step);
  std::vector<float> params(replica.params.size()), buffers(replica.buffers.size());
  const auto target = method_.prepare_evaluation(replica, {params, {}, buffers, {}});
  {
    std::optional<ScopedSwap> swap;
    if (target.uses_out) swap.emplace(replica, ReplicaView{params, {}, buffers, {}});
    last_ = score_(comm, final);
  }
  if (final && target.uses_out) evaluated_params_ = params;
  if (final) local_ = target.uses_out ? score_worker0_replica(replica) : *last_;
  const double train_s = clock_.train_s();
  record_accuracy(position, last_->accuracy, train_s, setup_.target_accuracy,
                  setup_.steps_per_epoch);
  metrics_.write({{"type", "eval"},
                  {"step", position.step},
                  {"epoch", position.epoch},
                  {"epochs_done", static_cast<double>(position.step) /
                                      static_cast<double>(setup_.steps_per_epoch)},
                  {"wall_s", clock_.wall_s()},
                  {"train_time_s", train_s},
                  {"test_accuracy", last_->accuracy},
                  {"test_loss", last_->loss},
                  {"test_samples", last_->samples},
                  {"method", target.figures}});
}

// The test accuracy of worker 0's own replica, scored by all workers.
EvalResult Evaluator::score_worker0_replica(ReplicaView replica) {
  ScopedSwap swap(replica);
  auto& workers = setup_.workers;
  workers.broadcast(replica.params.data(), replica.params.size_bytes(), 0,
                    "worker 0's parameters");
  if (!replica.buffers.empty())
    workers.broadcast(replica.buffers.data(), replica.buffers.size_bytes(), 0,
                      "worker 0's buffers");
  return score_(workers, /*whole_set=*/true);
}

std::span<const float> Evaluator::final_params(ReplicaView replica) const {
  if (evaluated_params_.empty()) return replica.params;
  return evaluated_params_;
}

}  // namespace distsgd
