#pragma once
// Per-channel normalisation of uint8 pixels: x/255, then (x - mean) / std.
//
// A pixel has only 256 possible values, so each channel's normalisation is a
// 256-entry table; turning a batch into floats is then one table look-up per
// pixel, with no arithmetic and no per-element tensor indexing.
#include <cstdint>
#include <vector>

#include "data/dataset.hpp"

namespace distsgd::data {

struct Normalization {
  std::vector<float> mean;  // one per channel, of pixel / 255
  std::vector<float> std;   // one per channel, > 0
};

class PixelLut {
 public:
  explicit PixelLut(const Normalization& normalization);
  int64_t channels() const { return static_cast<int64_t>(table_.size() / 256); }
  const float* channel(int64_t c) const { return table_.data() + c * 256; }

 private:
  std::vector<float> table_;  // channels x 256
};

// Writes one sample (channel-major uint8, shape.numel() bytes) as normalised floats.
void write_normalized(const uint8_t* src, float* dst, const SampleShape& shape,
                      const PixelLut& lut);

}  // namespace distsgd::data
