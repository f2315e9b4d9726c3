#include "data/normalize.hpp"

#include <stdexcept>

namespace distsgd::data {

PixelLut::PixelLut(const Normalization& normalization) {
  const size_t channels = normalization.mean.size();
  if (channels == 0 || normalization.std.size() != channels) {
    throw std::invalid_argument("Normalization needs one mean and one std per channel");
  }
  table_.resize(channels * 256);
  for (size_t c = 0; c < channels; ++c) {
    if (!(normalization.std[c] > 0.0f)) {
      throw std::invalid_argument("Normalization std must be positive");
    }
    for (int v = 0; v < 256; ++v) {
      table_[c * 256 + v] =
          (static_cast<float>(v) / 255.0f - normalization.mean[c]) / normalization.std[c];
    }
  }
}

void write_normalized(const uint8_t* src, float* dst, const SampleShape& shape,
                      const PixelLut& lut) {
  const int64_t plane = shape.height * shape.width;
  for (int64_t c = 0; c < shape.channels; ++c) {
    const float* table = lut.channel(c);
    for (int64_t i = 0; i < plane; ++i) dst[i] = table[src[i]];
    src += plane;
    dst += plane;
  }
}

}  // namespace distsgd::data
