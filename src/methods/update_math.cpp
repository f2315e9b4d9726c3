#include "methods/update_math.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace distsgd::math {

void sgd_step(std::span<float> x, std::span<const float> g, MomentumState& state,
              const SgdHyper& hyper, double lr) {
  if (x.size() != g.size())
    throw std::invalid_argument("sgd_step: parameter and gradient sizes differ");
  const float wd = static_cast<float>(hyper.weight_decay);
  const float mu = static_cast<float>(hyper.momentum);
  const float step = static_cast<float>(lr);
  const std::size_t n = x.size();
  if (mu == 0.0f) {
    for (std::size_t i = 0; i < n; ++i) x[i] -= step * (g[i] + wd * x[i]);
    return;
  }
  const bool first = !state.started();
  if (first) state.buffer.resize(n);
  if (state.buffer.size() != n)
    throw std::invalid_argument("sgd_step: momentum buffer size differs");
  float* v = state.buffer.data();
  for (std::size_t i = 0; i < n; ++i) {
    const float d = g[i] + wd * x[i];
    v[i] = first ? d : mu * v[i] + d;
    x[i] -= step * (hyper.nesterov ? d + mu * v[i] : v[i]);
  }
}

void elastic_exchange(std::span<float> x, std::span<float> centre, float alpha) {
  if (x.size() != centre.size()) throw std::invalid_argument("elastic_exchange: sizes differ");
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float d = alpha * (x[i] - centre[i]);
    x[i] -= d;
    centre[i] += d;
  }
}

void elastic_move_replica(std::span<float> x, std::span<const float> centre, float alpha) {
  if (x.size() != centre.size()) throw std::invalid_argument("elastic_move_replica: sizes differ");
  for (std::size_t i = 0; i < x.size(); ++i) x[i] -= alpha * (x[i] - centre[i]);
}

void elastic_move_centre(std::span<float> centre, std::span<const float> x, float alpha) {
  if (x.size() != centre.size()) throw std::invalid_argument("elastic_move_centre: sizes differ");
  for (std::size_t i = 0; i < x.size(); ++i) centre[i] += alpha * (x[i] - centre[i]);
}

void average_with_sum(std::span<float> x, std::span<const float> sum, int count) {
  if (x.size() != sum.size()) throw std::invalid_argument("average_with_sum: sizes differ");
  if (count == 0) return;
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (x[i] + sum[i]) / static_cast<float>(count + 1);
}

void average_with_peers(std::span<float> x, std::span<const std::span<const float>> peers) {
  for (const auto& peer : peers) {
    if (peer.size() != x.size()) throw std::invalid_argument("average_with_peers: sizes differ");
  }
  const float inverse = 1.0f / static_cast<float>(peers.size() + 1);
  for (std::size_t i = 0; i < x.size(); ++i) {
    float sum = x[i];
    for (const auto& peer : peers) sum += peer[i];
    x[i] = sum * inverse;
  }
}

void push_sum_share(std::span<float> x, double& weight, int parts) {
  if (parts < 1) throw std::invalid_argument("push_sum_share: parts must be >= 1");
  scale(x, 1.0f / static_cast<float>(parts));
  weight /= parts;
}

void push_sum_absorb(std::span<float> x, double& weight, std::span<const float> incoming_x,
                     double incoming_weight) {
  if (x.size() != incoming_x.size()) throw std::invalid_argument("push_sum_absorb: sizes differ");
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += incoming_x[i];
  weight += incoming_weight;
}

void push_sum_debias(std::span<const float> x, double weight, std::span<float> z) {
  if (x.size() != z.size()) throw std::invalid_argument("push_sum_debias: sizes differ");
  if (!(weight > 0)) throw std::invalid_argument("push_sum_debias: weight must be > 0");
  const double inverse = 1.0 / weight;
  for (std::size_t i = 0; i < x.size(); ++i) z[i] = static_cast<float>(x[i] * inverse);
}

double relative_squared_distance(std::span<const float> x, std::span<const float> mean) {
  if (x.size() != mean.size())
    throw std::invalid_argument("relative_squared_distance: sizes differ");
  double distance = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double d = static_cast<double>(x[i]) - mean[i];
    distance += d * d;
    norm += static_cast<double>(mean[i]) * mean[i];
  }
  if (norm == 0.0) return distance == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return distance / norm;
}

std::vector<Range> balanced_ranges(int64_t total, int parts) {
  if (parts < 1 || total < 0)
    throw std::invalid_argument("balanced_ranges: need parts >= 1, total >= 0");
  std::vector<Range> ranges;
  const int64_t base = total / parts, extra = total % parts;
  int64_t offset = 0;
  for (int i = 0; i < parts; ++i) {
    const int64_t size = base + (i < extra ? 1 : 0);
    ranges.push_back({offset, size});
    offset += size;
  }
  return ranges;
}

void scale(std::span<float> x, float factor) {
  for (float& value : x) value *= factor;
}

bool all_finite(std::span<const float> x) {
  // x - x is 0 for a finite x and NaN otherwise: one branch-free pass.
  float probe = 0.0f;
  for (const float value : x) probe += value - value;
  return probe == 0.0f;
}

float max_abs_difference(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) throw std::invalid_argument("max_abs_difference: sizes differ");
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float diff = std::fabs(a[i] - b[i]);
    if (std::isnan(diff)) return diff;  // a NaN replica is as divergent as it gets
    if (diff > worst) worst = diff;
  }
  return worst;
}

}  // namespace distsgd::math
