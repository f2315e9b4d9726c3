#pragma once
// The standard CIFAR augmentation: a random crop of the original size from the
// image zero-padded on every side, then a horizontal flip with probability 1/2.
//
// Padding is black in pixel space (value 0, normalised like any pixel), as
// torchvision's RandomCrop(padding=4) does before Normalize. The crop and flip
// are fused with normalisation, so an augmented sample costs one pass.
#include <cstdint>

#include "data/dataset.hpp"
#include "data/normalize.hpp"
#include "core/random.hpp"

namespace distsgd::data {

struct CropFlip {
  int64_t dy = 0;  // crop origin in the padded image, in [0, 2 * pad]
  int64_t dx = 0;
  bool flip = false;
};

CropFlip draw_crop_flip(SplitMix64& rng, int64_t pad);

// dy == dx == pad and no flip reproduce the sample unchanged.
void write_crop_flip(const uint8_t* src, float* dst, const SampleShape& shape, const PixelLut& lut,
                     int64_t pad, const CropFlip& crop);

}  // namespace distsgd::data
