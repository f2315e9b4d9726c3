// The crops and PIL's bilinear resampling of image_transforms.hpp.
#include "data/image_transforms.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace distsgd::data {
namespace {

// The taps of the output pixels along one axis: output t reads the region's
// inputs [first[t], first[t] + count[t]) with weights[t * stride + k]. One
// flat array: the inner loops run over it for every pixel.
struct Taps {
  std::vector<int64_t> first;
  std::vector<int> count;
  std::vector<float> weights;
  int stride = 0;
};

// PIL's precompute_coeffs for the bilinear filter, for the output positions
// [out_first, out_first + count) of a resize of `in_len` inputs to
// `out_len` outputs. The taps stay inside the region (torchvision crops
// before it resizes, so nothing outside the crop contributes).
Taps bilinear_taps(int64_t in_len, int64_t out_len, int64_t out_first, int64_t count) {
  const double scale = static_cast<double>(in_len) / static_cast<double>(out_len);
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle's support is 1, widened when shrinking
  Taps taps;
  taps.stride = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(static_cast<std::size_t>(count));
  taps.count.resize(static_cast<std::size_t>(count));
  taps.weights.assign(static_cast<std::size_t>(count * taps.stride), 0.0f);
  for (int64_t t = 0; t < count; ++t) {
    const double center = (static_cast<double>(out_first + t) + 0.5) * scale;
    const auto lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    auto hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_len);
    hi = std::min<int64_t>(hi, lo + taps.stride);
    float* w = &taps.weights[static_cast<std::size_t>(t * taps.stride)];
    double total = 0.0;
    for (int64_t x = lo; x < hi; ++x) {
      const double d = std::abs((static_cast<double>(x) - center + 0.5) / filter_scale);
      const double weight = d < 1.0 ? 1.0 - d : 0.0;
      w[x - lo] = static_cast<float>(weight);
      total += weight;
    }
    taps.first[static_cast<std::size_t>(t)] = lo;
    taps.count[static_cast<std::size_t>(t)] = static_cast<int>(hi - lo);
    if (hi <= lo || total <= 0.0) {  // cannot happen for a region of >= 1 pixel; keep it safe
      taps.first[static_cast<std::size_t>(t)] =
          std::clamp<int64_t>(static_cast<int64_t>(center), 0, in_len - 1);
      taps.count[static_cast<std::size_t>(t)] = 1;
      w[0] = 1.0f;
      total = 1.0;
    }
    for (int k = 0; k < taps.count[static_cast<std::size_t>(t)]; ++k)
      w[k] = static_cast<float>(w[k] / total);
  }
  return taps;
}

// Rounds half up to 8 bits, as PIL's fixed point does; the weights are
// non-negative and sum to 1, so v is in [0, 255] up to rounding error.
uint8_t to_u8(float v) { return static_cast<uint8_t>(std::clamp(v + 0.5f, 0.0f, 255.0f)); }

// The region (box) of the image resized to out_h x out_w, of which the window
// at (oy, ox) of size x size is written, normalised, into dst (CHW).
void resample(const RgbImage& image, const CropBox& box, int64_t out_h, int64_t out_w, int64_t oy,
              int64_t ox, int64_t size, bool flip, float* dst, const Normalization3& norm) {
  if (box.height < 1 || box.width < 1 || box.top < 0 || box.left < 0 ||
      box.top + box.height > image.height || box.left + box.width > image.width)
    throw std::invalid_argument("resample: the box is not inside the image");
  const auto rows = bilinear_taps(box.height, out_h, oy, size);
  const auto cols = bilinear_taps(box.width, out_w, ox, size);
  // The region's rows the vertical pass reads.
  const int64_t row_lo = rows.first.front();
  const int64_t row_hi = rows.first.back() + rows.count.back();
  // Horizontal pass, rounded to uint8 as PIL stores its intermediate image.
  std::vector<uint8_t> mid(static_cast<std::size_t>((row_hi - row_lo) * size * 3));
  for (int64_t r = row_lo; r < row_hi; ++r) {
    const uint8_t* src = image.pixels.data() + ((box.top + r) * image.width + box.left) * 3;
    uint8_t* out = mid.data() + (r - row_lo) * size * 3;
    for (int64_t x = 0; x < size; ++x) {
      const float* w = &cols.weights[static_cast<std::size_t>(x * cols.stride)];
      const int n = cols.count[static_cast<std::size_t>(x)];
      const uint8_t* p = src + cols.first[static_cast<std::size_t>(x)] * 3;
      float r0 = 0, g0 = 0, b0 = 0;
      for (int k = 0; k < n; ++k) {
        r0 += w[k] * p[k * 3];
        g0 += w[k] * p[k * 3 + 1];
        b0 += w[k] * p[k * 3 + 2];
      }
      out[x * 3] = to_u8(r0);
      out[x * 3 + 1] = to_u8(g0);
      out[x * 3 + 2] = to_u8(b0);
    }
  }
  // ToTensor and Normalize as one table per channel.
  float lut[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v)
      lut[c][v] = (static_cast<float>(v) / 255.0f - norm.mean[c]) / norm.std[c];
  const int64_t plane = size * size;
  const int64_t row_bytes = size * 3;
  for (int64_t y = 0; y < size; ++y) {
    const float* w = &rows.weights[static_cast<std::size_t>(y * rows.stride)];
    const int n = rows.count[static_cast<std::size_t>(y)];
    const uint8_t* base = mid.data() + (rows.first[static_cast<std::size_t>(y)] - row_lo) * row_bytes;
    float* red = dst + y * size;
    float* green = red + plane;
    float* blue = green + plane;
    for (int64_t x = 0; x < size; ++x) {
      const uint8_t* p = base + x * 3;
      float r0 = 0, g0 = 0, b0 = 0;
      for (int k = 0; k < n; ++k) {
        r0 += w[k] * p[k * row_bytes];
        g0 += w[k] * p[k * row_bytes + 1];
        b0 += w[k] * p[k * row_bytes + 2];
      }
      const int64_t to = flip ? size - 1 - x : x;
      red[to] = lut[0][to_u8(r0)];
      green[to] = lut[1][to_u8(g0)];
      blue[to] = lut[2][to_u8(b0)];
    }
  }
}

}  // namespace

double uniform01(SplitMix64& rng) {
  return static_cast<double>(rng.next() >> 11) * (1.0 / 9007199254740992.0);
}

CropBox draw_random_resized_crop(int64_t height, int64_t width, SplitMix64& rng) {
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_lo = std::log(3.0 / 4.0), log_hi = std::log(4.0 / 3.0);
  CropBox box;
  bool found = false;
  for (int attempt = 0; attempt < 10 && !found; ++attempt) {
    const double target = area * (0.08 + (1.0 - 0.08) * uniform01(rng));
    const double aspect = std::exp(log_lo + (log_hi - log_lo) * uniform01(rng));
    const auto w = static_cast<int64_t>(std::lround(std::sqrt(target * aspect)));
    const auto h = static_cast<int64_t>(std::lround(std::sqrt(target / aspect)));
    if (0 < w && w <= width && 0 < h && h <= height) {
      box = {static_cast<int64_t>(rng.below(static_cast<uint64_t>(height - h + 1))),
             static_cast<int64_t>(rng.below(static_cast<uint64_t>(width - w + 1))), h, w};
      found = true;
    }
  }
  if (!found) {  // torchvision's fallback: the centre crop of the whole image at the nearest ratio
    const double ratio = static_cast<double>(width) / static_cast<double>(height);
    int64_t w = width, h = height;
    if (ratio < 3.0 / 4.0) {
      h = std::lround(static_cast<double>(w) / (3.0 / 4.0));
    } else if (ratio > 4.0 / 3.0) {
      w = std::lround(static_cast<double>(h) * (4.0 / 3.0));
    }
    h = std::clamp<int64_t>(h, 1, height);
    w = std::clamp<int64_t>(w, 1, width);
    box = {(height - h) / 2, (width - w) / 2, h, w};
  }
  box.flip = rng.coin();
  return box;
}

int64_t val_resize(int64_t size) {
  return static_cast<int64_t>(std::lround(static_cast<double>(size) / 0.875));
}

void write_resized_crop(const RgbImage& image, const CropBox& box, int64_t size, float* dst,
                        const Normalization3& norm) {
  resample(image, box, size, size, 0, 0, size, box.flip, dst, norm);
}

void write_val_crop(const RgbImage& image, int64_t size, float* dst, const Normalization3& norm) {
  const int64_t shorter = val_resize(size);
  int64_t out_h = shorter, out_w = shorter;
  // torchvision Resize(int): the shorter side to `shorter`, the other int(shorter * long / short).
  if (image.width <= image.height)
    out_h = shorter * image.height / image.width;
  else
    out_w = shorter * image.width / image.height;
  // CenterCrop: the offsets int(round((resized - size) / 2)).
  const auto oy = static_cast<int64_t>(std::lround(static_cast<double>(out_h - size) / 2.0));
  const auto ox = static_cast<int64_t>(std::lround(static_cast<double>(out_w - size) / 2.0));
  resample(image, {0, 0, image.height, image.width, false}, out_h, out_w, oy, ox, size, false, dst,
           norm);
}

}  // namespace distsgd::data
