#pragma once
// The update rules of distributed SGD as pure functions on flat float vectors:
// no MPI, no threads, no LibTorch. Workers, parameter servers and the cluster
// simulator all call these same functions, and unit tests check them against
// the formulas.
#include <cstdint>
#include <span>
#include <vector>

namespace distsgd::math {

struct SgdHyper {
  double momentum = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

// The momentum buffer of SGD. Empty until the first step, which (as in
// torch.optim.SGD) sets it to the first gradient instead of decaying zeros.
struct MomentumState {
  std::vector<float> buffer;
  bool started() const { return !buffer.empty(); }
};

// One step of SGD with momentum, weight decay and optional Nesterov momentum,
// with the semantics of torch.optim.SGD (dampening 0):
//   d = g + wd * x;  v = d (first step) or mu * v + d;
//   x -= lr * (nesterov ? d + mu * v : v)
void sgd_step(std::span<float> x, std::span<const float> g, MomentumState& state,
              const SgdHyper& hyper, double lr);

// x *= factor (for example 1/N after summing N gradients).
void scale(std::span<float> x, float factor);

// The largest |a_i - b_i|.
float max_abs_difference(std::span<const float> a, std::span<const float> b);

}  // namespace distsgd::math
