#pragma once
// The one in-memory Dataset behind every reader: uint8 images and int64 labels,
// normalised (and optionally augmented) as each batch is gathered.
//
// Readers only parse and validate their files into Uint8Samples; batching,
// normalisation and augmentation live here once. A virtual size larger than the
// stored count repeats the stored samples (index % count), which lets synthetic
// data look like ImageNet without holding it.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "data/dataset.hpp"
#include "data/normalize.hpp"

namespace distsgd::data {

struct Uint8Samples {
  SampleShape shape;
  std::vector<uint8_t> pixels;  // count x channels x height x width
  std::vector<int64_t> labels;  // count
  int64_t count() const { return static_cast<int64_t>(labels.size()); }
};

struct Uint8DatasetSpec {
  int64_t num_classes = 10;
  Normalization normalization;
  int64_t augment_pad = 0;   // > 0: batch(indices, seed) crops with this padding and flips
  int64_t virtual_size = 0;  // 0: the number of stored samples
};

class Uint8Dataset final : public Dataset {
 public:
  // Throws std::invalid_argument if the samples do not match their shape, the
  // labels or the spec; readers validate files before this, with file names.
  Uint8Dataset(Uint8Samples samples, Uint8DatasetSpec spec);

  int64_t size() const override { return size_; }
  SampleShape shape() const override { return samples_.shape; }
  int64_t num_classes() const override { return spec_.num_classes; }
  // Throws std::out_of_range for an index outside [0, size()): a caller's bug,
  // not bad input. Safe to call from several threads at once.
  Batch batch(std::span<const int64_t> indices,
              std::optional<uint64_t> augment_seed = std::nullopt) const override;
  std::vector<int64_t> labels() const override;

  const Uint8Samples& samples() const { return samples_; }

 private:
  Uint8Samples samples_;
  Uint8DatasetSpec spec_;
  PixelLut lut_;
  int64_t size_;
};

}  // namespace distsgd::data
