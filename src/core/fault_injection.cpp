#include "core/fault_injection.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/random.hpp"

namespace distsgd {
namespace {

// Keeps the fault stream apart from every other stream drawn from --seed
// (shuffles, augmentation, synthetic data): "faults" in ASCII.
constexpr uint64_t kFaultStream = 0x0000'6661'756c'7473ull;

}  // namespace

double fault_draw(uint64_t seed, int rank, int64_t step) {
  // Each input goes through its own mix, so nearby (rank, step) pairs are far
  // apart in the output.
  uint64_t x = mix64(seed ^ kFaultStream);
  x = mix64(x ^ static_cast<uint64_t>(rank));
  x = mix64(x ^ static_cast<uint64_t>(step));
  return static_cast<double>(x >> 11) * 0x1.0p-53;  // the top 53 bits
}

FaultInjection::FaultInjection(const TrainConfig& config, int rank)
    : seed_(config.seed), rank_(rank), random_delay_(config.straggler_random_spec()) {
  if (const auto slow = config.straggler_spec(); slow && slow->rank == rank)
    slowdown_ = slow->value;
  if (const auto nan = config.inject_nan_spec(); nan && nan->rank == rank)
    nan_step_ = static_cast<int64_t>(nan->value);
  if (const auto leave = config.leave_early_spec(); leave && leave->rank == rank)
    leave_after_ = static_cast<int64_t>(leave->value);
}

int64_t FaultInjection::steps_to_run(int64_t total_steps) const {
  return leave_after_ ? std::min(total_steps, *leave_after_) : total_steps;
}

double FaultInjection::delay_s(int64_t step, double compute_s) const {
  double delay = slowdown_ > 1.0 ? (slowdown_ - 1.0) * compute_s : 0.0;
  if (random_delay_ && fault_draw(seed_, rank_, step) < random_delay_->probability)
    delay += random_delay_->ms / 1000.0;
  return delay;
}

void FaultInjection::delay(int64_t step, double compute_s) {
  const double delay = delay_s(step, compute_s);
  if (delay <= 0) return;
  std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  injected_s_ += delay;
}

}  // namespace distsgd
