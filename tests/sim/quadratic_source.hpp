#pragma once
// A GradientSource with a closed form, for the simulator's unit tests: the
// loss of worker w's batch at step s is 0.5 * ||x - t(w, s)||^2 with a target
// t drawn from (w, s), so its gradient is x - t and any method's result can
// be computed by hand. Its single "statistic" counts the batches a node saw.
#include <cmath>

#include "core/random.hpp"
#include "sim/gradient_source.hpp"

namespace distsgd::sim::testing {

class QuadraticSource final : public GradientSource {
 public:
  explicit QuadraticSource(int64_t numel) : numel_(numel) {}

  int64_t numel() const override { return numel_; }
  int64_t buffer_numel() const override { return 1; }
  std::vector<float> initial_params() const override {
    std::vector<float> x(static_cast<std::size_t>(numel_));
    for (int64_t i = 0; i < numel_; ++i) x[static_cast<std::size_t>(i)] = 1.0f + 0.1f * static_cast<float>(i);
    return x;
  }
  std::vector<float> initial_buffers() const override { return {0.0f}; }

  static float target(int worker, int64_t step, int64_t i) {
    const uint64_t x = mix64(mix64(static_cast<uint64_t>(worker) * 7919u + 17u) ^
                             mix64(static_cast<uint64_t>(step)) ^ static_cast<uint64_t>(i));
    return static_cast<float>(static_cast<double>(x >> 40) / static_cast<double>(1u << 24)) - 0.5f;
  }

  StepFigures gradient(const BatchId& batch, std::span<const float> params,
                       std::span<float> buffers, std::span<float> grad) override {
    double loss = 0.0;
    for (std::size_t i = 0; i < params.size(); ++i) {
      grad[i] = params[i] - target(batch.worker, batch.step, static_cast<int64_t>(i));
      loss += 0.5 * grad[i] * grad[i];
    }
    buffers[0] += 1.0f;
    ++calls;
    return {loss, 0.0};
  }
  EvalFigures evaluate(std::span<const float> params, std::span<const float>, bool) override {
    double norm = 0.0;
    for (float v : params) norm += 0.5 * v * v;
    last_evaluated.assign(params.begin(), params.end());
    ++evaluations;
    return {norm, 1.0 / (1.0 + norm)};
  }

  int64_t calls = 0, evaluations = 0;
  std::vector<float> last_evaluated;

 private:
  int64_t numel_;
};

// Settings for a run of `algo` on `nodes` nodes of a model of `numel` floats.
inline SimSettings settings_for(const std::string& algo, int nodes, int64_t numel,
                                int64_t steps, const std::string& network = "free") {
  SimSettings s;
  s.config.algo = algo;
  s.config.lr = 0.1;
  s.config.momentum = 0.9;
  s.nodes = nodes;
  s.network = NetworkProfile::parse(network);
  s.compute.step_s = 0.01;
  s.steps_per_epoch = steps;
  s.total_steps = steps;
  s.numel = numel;
  s.buffer_numel = 1;
  s.bucket_numels = {numel};
  return s;
}

}  // namespace distsgd::sim::testing
