// The crop/flip and normalisation kernels on tiny images, checked by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "data/augment.hpp"
#include "data/normalize.hpp"

namespace distsgd::data {
namespace {

// Normalisation with mean 0 and std 1/255 maps a pixel v to v (up to rounding).
PixelLut identity_lut(int64_t channels) {
  return PixelLut(Normalization{std::vector<float>(channels, 0.0f),
                                std::vector<float>(channels, 1.0f / 255.0f)});
}

TEST(Normalize, TableMatchesFormula) {
  const PixelLut lut(Normalization{{0.25f, 0.5f}, {0.5f, 2.0f}});
  EXPECT_EQ(lut.channels(), 2);
  EXPECT_FLOAT_EQ(lut.channel(0)[0], -0.5f);
  EXPECT_FLOAT_EQ(lut.channel(0)[255], 1.5f);
  EXPECT_FLOAT_EQ(lut.channel(1)[51], (51.0f / 255.0f - 0.5f) / 2.0f);
  EXPECT_THROW(PixelLut(Normalization{{0.1f}, {0.0f}}), std::invalid_argument);
  EXPECT_THROW(PixelLut(Normalization{{0.1f, 0.2f}, {1.0f}}), std::invalid_argument);
}

TEST(Normalize, WriteUsesEachChannelsTable) {
  const PixelLut lut(Normalization{{0.0f, 1.0f}, {1.0f, 1.0f}});
  const uint8_t src[] = {0, 255, 0, 255};  // two channels of 1x2
  float dst[4];
  write_normalized(src, dst, SampleShape{2, 1, 2}, lut);
  EXPECT_FLOAT_EQ(dst[0], 0.0f);
  EXPECT_FLOAT_EQ(dst[1], 1.0f);
  EXPECT_FLOAT_EQ(dst[2], -1.0f);
  EXPECT_FLOAT_EQ(dst[3], 0.0f);
}

// A 1-channel 3x4 image with distinct pixels 1..12, padded by 1.
class CropFlipTest : public ::testing::Test {
 protected:
  std::vector<float> run(CropFlip crop) {
    std::vector<float> out(12);
    write_crop_flip(src_, out.data(), shape_, lut_, 1, crop);
    // (v / 255) * 255 is v only up to float rounding.
    for (float& v : out) v = std::round(v);
    return out;
  }
  const uint8_t src_[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const SampleShape shape_{1, 3, 4};
  const PixelLut lut_ = identity_lut(1);
};

TEST_F(CropFlipTest, CentredCropIsIdentity) {
  EXPECT_EQ(run({1, 1, false}), (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
}

TEST_F(CropFlipTest, FlipMirrorsRows) {
  EXPECT_EQ(run({1, 1, true}), (std::vector<float>{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9}));
}

TEST_F(CropFlipTest, ShiftsBringInPadding) {
  // Origin (0, 0) of the padded image: content moves down and right by one.
  EXPECT_EQ(run({0, 0, false}), (std::vector<float>{0, 0, 0, 0, 0, 1, 2, 3, 0, 5, 6, 7}));
  // Origin (2, 2): content moves up and left by one.
  EXPECT_EQ(run({2, 2, false}), (std::vector<float>{6, 7, 8, 0, 10, 11, 12, 0, 0, 0, 0, 0}));
  // Crop then flip: the padding column that was on the right is now on the left.
  EXPECT_EQ(run({2, 2, true}), (std::vector<float>{0, 8, 7, 6, 0, 12, 11, 10, 0, 0, 0, 0}));
}

TEST(CropFlip, PaddingIsNormalisedBlack) {
  const PixelLut lut(Normalization{{0.5f}, {0.25f}});
  const uint8_t src[1] = {255};
  float out[1];
  write_crop_flip(src, out, SampleShape{1, 1, 1}, lut, 4, CropFlip{0, 0, false});
  EXPECT_FLOAT_EQ(out[0], -2.0f);
}

TEST(CropFlip, DrawsCoverEveryOffsetAndBothFlips) {
  SplitMix64 rng(5);
  std::set<int64_t> dys, dxs;
  int flips = 0;
  constexpr int kDraws = 4000;
  for (int i = 0; i < kDraws; ++i) {
    const CropFlip c = draw_crop_flip(rng, 4);
    ASSERT_GE(c.dy, 0);
    ASSERT_LE(c.dy, 8);
    ASSERT_GE(c.dx, 0);
    ASSERT_LE(c.dx, 8);
    dys.insert(c.dy);
    dxs.insert(c.dx);
    flips += c.flip;
  }
  EXPECT_EQ(dys.size(), 9u);
  EXPECT_EQ(dxs.size(), 9u);
  EXPECT_NEAR(flips, kDraws / 2, 150);
}

}  // namespace
}  // namespace distsgd::data
