#pragma once
// torchvision's ImageNet transforms on a decoded RGB image, written straight
// into a normalised float CHW sample:
//   train: RandomResizedCrop(S, scale=(0.08, 1), ratio=(3/4, 4/3)) with
//          torchvision's ten attempts and its centre-crop fallback, then a
//          horizontal flip with probability 1/2;
//   val:   Resize(round(S / 0.875)) of the shorter side, CenterCrop(S).
// The resize is PIL's bilinear filter (a triangle widened by the scale when
// shrinking, so it averages like PIL's and torchvision's antialiased resize),
// rounded to uint8 as PIL stores it, then ToTensor and Normalize with the
// ImageNet mean and std. Everything is a pure function of its inputs: the
// random choices come from a generator the caller seeds per sample.
#include <array>
#include <cstdint>

#include "core/random.hpp"
#include "data/image_decode.hpp"

namespace distsgd::data {

// A rectangle of the source image and whether the output is mirrored.
struct CropBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
  bool flip = false;
};

// torchvision's RandomResizedCrop.get_params (flip drawn after the box).
CropBox draw_random_resized_crop(int64_t height, int64_t width, SplitMix64& rng);

// Uniform in [0, 1) from 53 random bits.
double uniform01(SplitMix64& rng);

// The resized size of the shorter side for a val crop of `size`: round(size / 0.875).
int64_t val_resize(int64_t size);

struct Normalization3 {
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

// `box` of `image` resized to size x size (mirrored when box.flip), into
// dst[3][size][size]. The box must lie inside the image.
void write_resized_crop(const RgbImage& image, const CropBox& box, int64_t size, float* dst,
                        const Normalization3& norm = {});

// Resize the shorter side to val_resize(size) (the longer one in proportion,
// rounded down as torchvision does), then the centre size x size, into dst.
void write_val_crop(const RgbImage& image, int64_t size, float* dst,
                    const Normalization3& norm = {});

}  // namespace distsgd::data
