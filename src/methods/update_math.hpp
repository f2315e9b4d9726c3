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

// The elastic exchange of EASGD between a replica x and the centre c:
//   d = alpha * (x - c);  x -= d;  c += d
// A worker calls it with its replica and a copy of the centre it received, a
// server with the centre and a copy of the replica: both compute the same d.
void elastic_exchange(std::span<float> x, std::span<float> centre, float alpha);
// Its two halves, for a side that holds only a copy of the other's vector;
// each computes the same d as elastic_exchange, bit for bit.
void elastic_move_replica(std::span<float> x, std::span<const float> centre, float alpha);
void elastic_move_centre(std::span<float> centre, std::span<const float> x, float alpha);

// Gossip averaging with r peers: x = (x + p_1 + ... + p_r) / (r + 1).
void average_with_peers(std::span<float> x, std::span<const std::span<const float>> peers);

// Push-average (the seed paper's push variant, not mass-conserving): x
// becomes the mean of itself and the `count` states whose sum is `sum`:
// x = (x + sum) / (count + 1). count 0 leaves x as it is.
void average_with_sum(std::span<float> x, std::span<const float> sum, int count);

// Push-sum (Kempe et al. 2003): a node holds a numerator x and a weight w and
// trains on z = x / w. push_sum_share keeps 1/parts of (x, w); each of the
// other parts - 1 shares, equal to what is kept, goes to a peer, which adds it
// with push_sum_absorb. The sum of the weights over all nodes never changes
// (exactly so for parts = 2: halving is exact in binary floating point).
void push_sum_share(std::span<float> x, double& weight, int parts);
void push_sum_absorb(std::span<float> x, double& weight, std::span<const float> incoming_x,
                     double incoming_weight);
// z = x / w.
void push_sum_debias(std::span<const float> x, double weight, std::span<float> z);

// ||x - mean||^2 / ||mean||^2 (0 when mean is all zeros and x equals it).
double relative_squared_distance(std::span<const float> x, std::span<const float> mean);

// A contiguous piece [offset, offset + size) of a flat vector.
struct Range {
  int64_t offset = 0;
  int64_t size = 0;
  bool operator==(const Range&) const = default;
};

// Splits [0, total) into `parts` contiguous ranges whose sizes differ by at
// most one (the first total % parts ranges get the extra element).
std::vector<Range> balanced_ranges(int64_t total, int parts);

// x *= factor (for example 1/N after summing N gradients).
void scale(std::span<float> x, float factor);

// No NaN or infinity in x (--nan-policy skip checks gradients with it).
bool all_finite(std::span<const float> x);

// The largest |a_i - b_i|.
float max_abs_difference(std::span<const float> a, std::span<const float> b);

}  // namespace distsgd::math
