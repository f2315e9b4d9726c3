#include "data/uint8_dataset.hpp"

#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "data/augment.hpp"
#include "core/random.hpp"

namespace distsgd::data {

Uint8Dataset::Uint8Dataset(Uint8Samples samples, Uint8DatasetSpec spec)
    : samples_(std::move(samples)),
      spec_(std::move(spec)),
      lut_(spec_.normalization),
      size_(spec_.virtual_size > 0 ? spec_.virtual_size : samples_.count()) {
  const SampleShape& s = samples_.shape;
  if (s.channels <= 0 || s.height <= 0 || s.width <= 0) {
    throw std::invalid_argument("Uint8Dataset: empty sample shape");
  }
  if (samples_.count() == 0) throw std::invalid_argument("Uint8Dataset: no samples");
  if (static_cast<int64_t>(samples_.pixels.size()) != samples_.count() * s.numel()) {
    throw std::invalid_argument("Uint8Dataset: pixel buffer does not match count x shape");
  }
  if (lut_.channels() != s.channels) {
    throw std::invalid_argument("Uint8Dataset: normalisation has the wrong number of channels");
  }
  for (int64_t label : samples_.labels) {
    if (label < 0 || label >= spec_.num_classes) {
      throw std::invalid_argument("Uint8Dataset: label " + std::to_string(label) + " out of range");
    }
  }
}

Batch Uint8Dataset::batch(std::span<const int64_t> indices,
                          std::optional<uint64_t> augment_seed) const {
  const SampleShape& s = samples_.shape;
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t numel = s.numel();
  Batch batch{torch::empty({n, s.channels, s.height, s.width}, torch::kFloat32),
              torch::empty({n}, torch::kInt64)};
  float* out = batch.inputs.data_ptr<float>();
  int64_t* targets = batch.targets.data_ptr<int64_t>();

  // One stream per batch, consumed in order, so the choices depend on the seed
  // and the position in the batch only.
  std::optional<SplitMix64> rng;
  if (augment_seed && spec_.augment_pad > 0) rng.emplace(mix64(*augment_seed));

  const int64_t stored = samples_.count();
  for (int64_t k = 0; k < n; ++k) {
    const int64_t index = indices[k];
    if (index < 0 || index >= size_) {
      throw std::out_of_range("Dataset::batch: index " + std::to_string(index) + " outside [0, " +
                              std::to_string(size_) + ")");
    }
    const int64_t i = index % stored;
    const uint8_t* src = samples_.pixels.data() + i * numel;
    if (rng) {
      write_crop_flip(src, out + k * numel, s, lut_, spec_.augment_pad,
                      draw_crop_flip(*rng, spec_.augment_pad));
    } else {
      write_normalized(src, out + k * numel, s, lut_);
    }
    targets[k] = samples_.labels[i];
  }
  return batch;
}

std::vector<int64_t> Uint8Dataset::labels() const {
  const int64_t stored = samples_.count();
  std::vector<int64_t> out(static_cast<std::size_t>(size_));
  for (int64_t index = 0; index < size_; ++index)
    out[static_cast<std::size_t>(index)] = samples_.labels[static_cast<std::size_t>(index % stored)];
  return out;
}

}  // namespace distsgd::data
