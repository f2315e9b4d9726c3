// The transforms: PIL's bilinear resize (values from Pillow 9 for the same
// input), the val crop's geometry, the flip, RandomResizedCrop's boxes and
// its fallback, and normalisation.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "data/image_transforms.hpp"
#include "image_test_util.hpp"

namespace distsgd::data {
namespace {

// A normalisation that leaves pixel values as they are (v / 255 / (1 / 255)).
const Normalization3 kRaw{{0, 0, 0}, {1.0f / 255, 1.0f / 255, 1.0f / 255}};

// CHW floats back to HWC uint8.
std::vector<int> to_hwc(const std::vector<float>& chw, int64_t size) {
  std::vector<int> out(static_cast<std::size_t>(size * size * 3));
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < size * size; ++i)
      out[static_cast<std::size_t>(i * 3 + c)] =
          static_cast<int>(std::lround(chw[static_cast<std::size_t>(c * size * size + i)]));
  return out;
}

// Pillow's Image.resize((3, 4), BILINEAR) of a 7x5 image, and
// crop((2, 1, 6, 4)).resize((6, 6), BILINEAR): shrinking and enlarging.
const std::vector<uint8_t> kPixels = {
    121, 66,  189, 242, 33,  6,   240, 132, 119, 98,  240, 243, 203, 77,  118, 77,  199, 7,
    32,  81,  21,  154, 15,  137, 242, 198, 218, 202, 227, 68,  187, 49,  18,  69,  253, 111,
    132, 223, 154, 215, 197, 179, 208, 118, 172, 14,  143, 83,  167, 53,  108, 136, 145, 63,
    32,  246, 247, 45,  176, 34,  210, 77,  10,  150, 218, 212, 60,  22,  23,  193, 169, 142,
    120, 18,  158, 3,   39,  55,  16,  101, 208, 149, 134, 79,  21,  173, 160, 184, 70,  193,
    192, 235, 197, 52,  138, 220, 121, 154, 223, 132, 155, 173, 5,   212, 161};
const std::vector<int> kCropUp = {
    202, 227, 68,  195, 138, 43,  167, 83,  34,  89,  219, 95,  101, 238, 133, 132, 223, 154,
    193, 184, 78,  184, 128, 54,  155, 103, 49,  79,  222, 125, 86,  231, 135, 110, 211, 124,
    176, 97,  98,  163, 109, 75,  131, 142, 79,  59,  227, 186, 55,  218, 139, 67,  188, 64,
    174, 82,  117, 153, 98,  102, 114, 127, 106, 43,  181, 180, 32,  176, 139, 38,  157, 78,
    187, 140, 134, 156, 95,  134, 105, 57,  129, 30,  84,  108, 17,  105, 134, 23,  120, 165,
    193, 169, 142, 157, 94,  150, 100, 22,  141, 23,  35,  72,  10,  70,  132, 16,  101, 208};

TEST(ImageTransforms, EnlargingACropMatchesPillow) {
  const RgbImage image{7, 5, kPixels};
  std::vector<float> out(3 * 6 * 6);
  write_resized_crop(image, {1, 2, 3, 4, false}, 6, out.data(), kRaw);
  const auto got = to_hwc(out, 6);
  // Pillow computes in fixed point; one level of rounding apart at most.
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], kCropUp[i], 1) << i;
}

TEST(ImageTransforms, ShrinkingAveragesAsPillowDoes) {
  // 8x8 stripes one pixel wide shrunk to 4x4: the widened triangle averages
  // them to near grey, where point sampling would give 0 or 255.
  RgbImage image{8, 8, {}};
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x)
      for (int c = 0; c < 3; ++c) image.pixels.push_back(x % 2 ? 255 : 0);
  std::vector<float> out(3 * 4 * 4);
  write_resized_crop(image, {0, 0, 8, 8, false}, 4, out.data(), kRaw);
  const auto got = to_hwc(out, 4);
  // Pillow: Image.resize((4, 4), BILINEAR) of these stripes is 109 in the
  // first column (taps 0.75, 0.75, 0.25 over 0, 255, 0) and 128 inside.
  EXPECT_EQ(got[0], 109);
  EXPECT_EQ(got[3], 128);
  EXPECT_EQ(got[6], 128);
}

TEST(ImageTransforms, SameSizeIsTheIdentityAndFlipMirrors) {
  const auto image = testing::gradient_image(9, 9, 3);
  std::vector<float> plain(3 * 81), flipped(3 * 81);
  write_resized_crop(image, {0, 0, 9, 9, false}, 9, plain.data(), kRaw);
  write_resized_crop(image, {0, 0, 9, 9, true}, 9, flipped.data(), kRaw);
  const auto got = to_hwc(plain, 9);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], image.pixels[i]) << i;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 9; ++y)
      for (int x = 0; x < 9; ++x)
        EXPECT_EQ(flipped[c * 81 + y * 9 + x], plain[c * 81 + y * 9 + (8 - x)]);
}

TEST(ImageTransforms, NormalisesWithTheImageNetMeanAndStd) {
  const auto image = testing::solid_image(5, 5, 255, 0, 128);
  std::vector<float> out(3 * 4 * 4);
  write_val_crop(image, 4, out.data());
  for (int i = 0; i < 16; ++i) {
    EXPECT_FLOAT_EQ(out[i], (1.0f - 0.485f) / 0.229f);
    EXPECT_FLOAT_EQ(out[16 + i], (0.0f - 0.456f) / 0.224f);
    EXPECT_FLOAT_EQ(out[32 + i], (128.0f / 255 - 0.406f) / 0.225f);
  }
}

TEST(ImageTransforms, ValResizesTheShorterSideThenCropsTheCentre) {
  EXPECT_EQ(val_resize(224), 256);
  EXPECT_EQ(val_resize(32), 37);
  // A 64x32 image, left half black and right half white, for S = 14: resized
  // to 32x16 (val_resize(14) = 16), centre 14 columns from 9. Pillow's
  // resize has 32 and 223 at columns 15 and 16 (6 and 7 of the crop).
  RgbImage image{64, 32, {}};
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) image.pixels.push_back(x < 32 ? 0 : 255);
  std::vector<float> out(3 * 14 * 14);
  write_val_crop(image, 14, out.data(), kRaw);
  const auto got = to_hwc(out, 14);
  for (int y = 0; y < 14; ++y) {
    EXPECT_EQ(got[(y * 14 + 0) * 3], 0);
    EXPECT_EQ(got[(y * 14 + 5) * 3], 0);
    EXPECT_NEAR(got[(y * 14 + 6) * 3], 32, 1);
    EXPECT_NEAR(got[(y * 14 + 7) * 3], 223, 1);
    EXPECT_EQ(got[(y * 14 + 8) * 3], 255);
    EXPECT_EQ(got[(y * 14 + 13) * 3], 255);
  }
}

TEST(ImageTransforms, RandomResizedCropStaysInsideWithTorchvisionsRanges) {
  SplitMix64 rng(7);
  int flips = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto box = draw_random_resized_crop(375, 500, rng);
    ASSERT_GE(box.top, 0);
    ASSERT_GE(box.left, 0);
    ASSERT_LE(box.top + box.height, 375);
    ASSERT_LE(box.left + box.width, 500);
    const double area = static_cast<double>(box.height * box.width) / (375.0 * 500.0);
    EXPECT_GE(area, 0.07);  // 0.08, less the rounding of the sides
    EXPECT_LE(area, 1.0);
    const double ratio = static_cast<double>(box.width) / static_cast<double>(box.height);
    EXPECT_GT(ratio, 0.7);
    EXPECT_LT(ratio, 1.45);
    flips += box.flip;
  }
  EXPECT_GT(flips, 900);
  EXPECT_LT(flips, 1100);
  SplitMix64 a(42), b(42);
  const auto first = draw_random_resized_crop(100, 80, a), second = draw_random_resized_crop(100, 80, b);
  EXPECT_EQ(first.top, second.top);
  EXPECT_EQ(first.width, second.width);
}

TEST(ImageTransforms, RandomResizedCropFallsBackToTheCentre) {
  // 1 x 100: no box of >= 8 % of the area fits one row, so torchvision's
  // fallback crops the centre at the widest ratio, 4/3: a 1x1 box at column 49.
  SplitMix64 rng(1);
  const auto box = draw_random_resized_crop(1, 100, rng);
  EXPECT_EQ(box.top, 0);
  EXPECT_EQ(box.height, 1);
  EXPECT_EQ(box.width, 1);
  EXPECT_EQ(box.left, 49);
}

}  // namespace
}  // namespace distsgd::data
