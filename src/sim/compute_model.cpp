#include "sim/compute_model.hpp"

#include <cmath>
#include <numbers>

#include "core/random.hpp"

namespace distsgd::sim {
namespace {
// The jitter's own stream of --seed ("jitter" in ASCII).
constexpr uint64_t kJitterStream = 0x0000'6a69'7474'6572ull;

double uniform(uint64_t x) { return (static_cast<double>(x >> 11) + 0.5) * 0x1.0p-53; }
}  // namespace

ComputeModel::ComputeModel(const ComputeSettings& settings, const TrainConfig& config,
                           int workers)
    : settings_(settings), seed_(config.seed) {
  faults_.reserve(static_cast<std::size_t>(workers));
  for (int worker = 0; worker < workers; ++worker) faults_.emplace_back(config, worker);
}

double ComputeModel::jitter(int worker, int64_t step) const {
  const double sigma = settings_.jitter_sigma;
  if (sigma <= 0.0) return 1.0;
  uint64_t x = mix64(seed_ ^ kJitterStream);
  x = mix64(x ^ static_cast<uint64_t>(worker));
  x = mix64(x ^ static_cast<uint64_t>(step));
  // Box-Muller from two independent uniforms in (0, 1).
  const double u1 = uniform(x), u2 = uniform(mix64(x + 1));
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  return std::exp(sigma * z - 0.5 * sigma * sigma);
}

StepTime ComputeModel::step(int worker, int64_t step) const {
  StepTime time;
  time.compute_s = settings_.step_s * jitter(worker, step);
  if (settings_.stragglers)
    time.delay_s = faults_[static_cast<std::size_t>(worker)].delay_s(step, time.compute_s);
  return time;
}

}  // namespace distsgd::sim
