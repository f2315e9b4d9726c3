#include "data/augment.hpp"

namespace distsgd::data {

CropFlip draw_crop_flip(SplitMix64& rng, int64_t pad) {
  CropFlip crop;
  const uint64_t positions = static_cast<uint64_t>(2 * pad + 1);
  crop.dy = static_cast<int64_t>(rng.below(positions));
  crop.dx = static_cast<int64_t>(rng.below(positions));
  crop.flip = rng.coin();
  return crop;
}

void write_crop_flip(const uint8_t* src, float* dst, const SampleShape& shape, const PixelLut& lut,
                     int64_t pad, const CropFlip& crop) {
  const int64_t h = shape.height;
  const int64_t w = shape.width;
  // Output (y, x) reads source (y + oy, x' + ox), where x' is x or its mirror.
  const int64_t oy = crop.dy - pad;
  const int64_t ox = crop.dx - pad;
  for (int64_t c = 0; c < shape.channels; ++c) {
    const float* table = lut.channel(c);
    const float padding = table[0];
    const uint8_t* plane = src + c * h * w;
    for (int64_t y = 0; y < h; ++y) {
      float* out = dst + (c * h + y) * w;
      const int64_t sy = y + oy;
      if (sy < 0 || sy >= h) {
        for (int64_t x = 0; x < w; ++x) out[x] = padding;
        continue;
      }
      const uint8_t* row = plane + sy * w;
      for (int64_t x = 0; x < w; ++x) {
        const int64_t sx = (crop.flip ? w - 1 - x : x) + ox;
        out[x] = (sx < 0 || sx >= w) ? padding : table[row[sx]];
      }
    }
  }
}

}  // namespace distsgd::data
