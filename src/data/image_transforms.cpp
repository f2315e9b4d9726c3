// The crops and PIL's bilinear resampling of image_transforms.hpp.
#include "data/image_transforms.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace distsgd::data {
namespace {

// The taps of one output pixel along one axis: input positions
// [first, first + weights.size()) of the region.
struct Taps {
  int64_t first = 0;
  std::vector<float> weights;
};

// PIL's precompute_coeffs for the bilinear filter, for the output positions
// [out_first, out_first + count) of a resize of `in_len` inputs to
// `out_len` outputs. The taps stay inside the region (torchvision crops
// before it resizes, so nothing outside the crop contributes).
std::vector<Taps> bilinear_taps(int64_t in_len, int64_t out_len, int64_t out_first,
                                int64_t count) {
  const double scale = static_cast<double>(in_len) / static_cast<double>(out_len);
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle's support is 1, widened when shrinking
  std::vector<Taps> taps(static_cast<std::size_t>(count));
  for (int64_t t = 0; t < count; ++t) {
    const double center = (static_cast<double>(out_first + t) + 0.5) * scale;
    const auto lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const auto hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_len);
    auto& tap = taps[static_cast<std::size_t>(t)];
    tap.first = lo;
    double total = 0.0;
    for (int64_t x = lo; x < hi; ++x) {
      const double d = std::abs((static_cast<double>(x) - center + 0.5) / filter_scale);
      const double w = d < 1.0 ? 1.0 - d : 0.0;
      tap.weights.push_back(static_cast<float>(w));
      total += w;
    }
    if (tap.weights.empty()) {  // cannot happen for a region of >= 1 pixel; keep it safe
      tap.first = std::clamp<int64_t>(static_cast<int64_t>(center), 0, in_len - 1);
      tap.weights = {1.0f};
      total = 1.0;
    }
    for (auto& w : tap.weights) w = static_cast<float>(w / total);
  }
  return taps;
}

uint8_t to_u8(float v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

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
  const int64_t row_lo = rows.front().first;
  const int64_t row_hi = rows.back().first + static_cast<int64_t>(rows.back().weights.size());
  // Horizontal pass, rounded to uint8 as PIL stores its intermediate image.
  std::vector<uint8_t> mid(static_cast<std::size_t>((row_hi - row_lo) * size * 3));
  for (int64_t r = row_lo; r < row_hi; ++r) {
    const uint8_t* src = image.pixels.data() + ((box.top + r) * image.width + box.left) * 3;
    uint8_t* out = mid.data() + (r - row_lo) * size * 3;
    for (int64_t x = 0; x < size; ++x) {
      const auto& tap = cols[static_cast<std::size_t>(x)];
      float acc[3] = {0, 0, 0};
      const uint8_t* p = src + tap.first * 3;
      for (std::size_t k = 0; k < tap.weights.size(); ++k)
        for (int c = 0; c < 3; ++c) acc[c] += tap.weights[k] * p[k * 3 + c];
      for (int c = 0; c < 3; ++c) out[x * 3 + c] = to_u8(acc[c]);
    }
  }
  // ToTensor and Normalize as one table per channel.
  float lut[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) lut[c][v] = (static_cast<float>(v) / 255.0f - norm.mean[c]) / norm.std[c];
  const int64_t plane = size * size;
  for (int64_t y = 0; y < size; ++y) {
    const auto& tap = rows[static_cast<std::size_t>(y)];
    for (int64_t x = 0; x < size; ++x) {
      float acc[3] = {0, 0, 0};
      const uint8_t* p = mid.data() + ((tap.first - row_lo) * size + x) * 3;
      for (std::size_t k = 0; k < tap.weights.size(); ++k)
        for (int c = 0; c < 3; ++c) acc[c] += tap.weights[k] * p[k * size * 3 + c];
      const int64_t to = y * size + (flip ? size - 1 - x : x);
      for (int c = 0; c < 3; ++c) dst[c * plane + to] = lut[c][to_u8(acc[c])];
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
