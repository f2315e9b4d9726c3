// decode_image: pixels of known PNG and JPEG files, every colour type to RGB,
// and every way a file can be bad: a DataError naming it, before any
// allocation the header's claim would cause.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>

#include "core/errors.hpp"
#include "data/image_decode.hpp"
#include "image_test_util.hpp"

namespace distsgd::data {
namespace {

using testing::Bytes;
using testing::contains;
using testing::encode_jpeg;
using testing::encode_png;
using testing::gradient_image;
using testing::message_of;
using testing::TempDir;

int max_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  int worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::abs(int{a[i]} - int{b[i]}));
  return worst;
}

TEST(ImageDecode, PngRgbIsExact) {
  const auto image = gradient_image(13, 7);
  const auto decoded = decode_image(encode_png(image), "a.png");
  EXPECT_EQ(decoded.width, 13);
  EXPECT_EQ(decoded.height, 7);
  EXPECT_EQ(decoded.pixels, image.pixels);
}

TEST(ImageDecode, PngGrayAlphaAndPaletteBecomeRgb) {
  const std::vector<uint8_t> gray = {0, 50, 100, 150, 200, 250};
  auto decoded = decode_image(encode_png(gray.data(), 3, 2, PNG_FORMAT_GRAY), "g.png");
  ASSERT_EQ(decoded.pixels.size(), 18u);
  for (int i = 0; i < 6; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(decoded.pixels[i * 3 + c], gray[i]) << i;

  // Alpha is dropped, not composited: the colour of a transparent pixel stays.
  const std::vector<uint8_t> rgba = {10, 20, 30, 0, 40, 50, 60, 255};
  decoded = decode_image(encode_png(rgba.data(), 2, 1, PNG_FORMAT_RGBA), "a.png");
  EXPECT_EQ(decoded.pixels, (std::vector<uint8_t>{10, 20, 30, 40, 50, 60}));

  const std::vector<uint8_t> palette = {255, 0, 0, 0, 0, 255, 7, 8, 9};
  const std::vector<uint8_t> indices = {2, 0, 1, 1};
  decoded = decode_image(
      encode_png(indices.data(), 2, 2, PNG_FORMAT_RGB_COLORMAP, palette.data(), 3), "p.png");
  EXPECT_EQ(decoded.pixels,
            (std::vector<uint8_t>{7, 8, 9, 255, 0, 0, 0, 0, 255, 0, 0, 255}));
}

TEST(ImageDecode, JpegRgbGrayAndCmyk) {
  const auto image = gradient_image(32, 24);
  auto decoded = decode_image(encode_jpeg(image, 100), "rgb.jpg");
  EXPECT_EQ(decoded.width, 32);
  EXPECT_EQ(decoded.height, 24);
  EXPECT_LE(max_abs_diff(decoded.pixels, image.pixels), 4);

  std::vector<uint8_t> gray(16 * 8);
  for (std::size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(i * 2);
  decoded = decode_image(encode_jpeg(gray.data(), 16, 8, TJPF_GRAY), "gray.jpg");
  ASSERT_EQ(decoded.pixels.size(), gray.size() * 3);
  for (std::size_t i = 0; i < gray.size(); ++i) {
    EXPECT_EQ(decoded.pixels[i * 3], decoded.pixels[i * 3 + 1]);
    EXPECT_EQ(decoded.pixels[i * 3], decoded.pixels[i * 3 + 2]);
    EXPECT_LE(std::abs(int{decoded.pixels[i * 3]} - int{gray[i]}), 3) << i;
  }

  // A CMYK (YCCK) JPEG of one colour: C=200, M=100, Y=50, K=128 in Adobe's
  // inverted convention is R = 200 * 128 / 255 and so on.
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < 16 * 16; ++i) cmyk.insert(cmyk.end(), {200, 100, 50, 128});
  decoded = decode_image(encode_jpeg(cmyk.data(), 16, 16, TJPF_CMYK), "cmyk.jpg");
  ASSERT_EQ(decoded.pixels.size(), 16u * 16 * 3);
  EXPECT_NEAR(decoded.pixels[0], 100, 3);
  EXPECT_NEAR(decoded.pixels[1], 50, 3);
  EXPECT_NEAR(decoded.pixels[2], 25, 3);
}

TEST(ImageDecode, TruncatedAndCorruptFilesNameTheFile) {
  const auto image = gradient_image(40, 40);
  Bytes jpeg = encode_jpeg(image, 90);
  jpeg.resize(jpeg.size() / 2);
  EXPECT_TRUE(contains(message_of<DataError>([&] { decode_image(jpeg, "half.jpg"); }), "half.jpg"));
  Bytes png = encode_png(image);
  png.resize(png.size() - 20);
  EXPECT_TRUE(contains(message_of<DataError>([&] { decode_image(png, "cut.png"); }), "cut.png"));
  // Data corrupted after a valid header.
  png = encode_png(image);
  for (std::size_t i = 60; i < png.size() - 12; ++i) png[i] ^= 0x5A;
  EXPECT_TRUE(contains(message_of<DataError>([&] { decode_image(png, "bad.png"); }), "bad.png"));
  const Bytes text = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_TRUE(contains(message_of<DataError>([&] { decode_image(text, "x.jpg"); }),
                       "neither a JPEG nor a PNG"));
  EXPECT_TRUE(contains(message_of<DataError>([&] { decode_image(Bytes{}, "empty.png"); }),
                       "empty.png"));
}

uint32_t be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
void put_be32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

// A valid PNG whose IHDR is rewritten to claim width x height (CRC fixed, so
// only the size is wrong).
Bytes png_claiming(uint32_t width, uint32_t height) {
  Bytes png = encode_png(gradient_image(4, 4));
  EXPECT_EQ(std::memcmp(&png[12], "IHDR", 4), 0);
  put_be32(&png[16], width);
  put_be32(&png[20], height);
  put_be32(&png[29], static_cast<uint32_t>(crc32(0, &png[12], 17)));
  return png;
}

// A valid JPEG whose SOF0 is rewritten to claim width x height.
Bytes jpeg_claiming(uint16_t width, uint16_t height) {
  Bytes jpeg = encode_jpeg(gradient_image(8, 8), 90);
  for (std::size_t i = 2; i + 8 < jpeg.size(); ++i)
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      jpeg[i + 5] = static_cast<uint8_t>(height >> 8);
      jpeg[i + 6] = static_cast<uint8_t>(height);
      jpeg[i + 7] = static_cast<uint8_t>(width >> 8);
      jpeg[i + 8] = static_cast<uint8_t>(width);
      return jpeg;
    }
  ADD_FAILURE() << "no SOF0 marker";
  return jpeg;
}

TEST(ImageDecode, OversizedHeaderIsAnErrorNotAnAllocation) {
  // 60000 x 60000 RGB would be 10.8 GB; the claim is refused from the header.
  const auto png = png_claiming(60000, 60000);
  EXPECT_EQ(be32(&png[16]), 60000u);
  auto msg = message_of<DataError>([&] { decode_image(png, "huge.png"); });
  EXPECT_TRUE(contains(msg, "huge.png") && contains(msg, "60000x60000") &&
              contains(msg, "over the limit"))
      << msg;
  msg = message_of<DataError>([&] { decode_image(jpeg_claiming(60000, 60000), "huge.jpg"); });
  EXPECT_TRUE(contains(msg, "huge.jpg") && contains(msg, "60000x60000") &&
              contains(msg, "over the limit"))
      << msg;
  // Within a side but over the pixel count (16000 x 16800 > 2^28).
  msg = message_of<DataError>([&] { decode_image(png_claiming(16000, 16800), "many.png"); });
  EXPECT_TRUE(contains(msg, "over the limit")) << msg;
  // The limits are the caller's: a tighter one refuses a small real image.
  msg = message_of<DataError>(
      [&] { decode_image(encode_png(gradient_image(40, 10)), "s.png", DecodeLimits{32, 1000}); });
  EXPECT_TRUE(contains(msg, "40x10")) << msg;
}

TEST(ImageDecode, ReadImageFileNamesAMissingFile) {
  TempDir dir;
  const auto path = dir.file("absent.jpg");
  EXPECT_TRUE(contains(message_of<DataError>([&] { read_image_file(path); }), path));
  testing::write_raw(dir.file("ok.png"), encode_png(gradient_image(5, 3)));
  EXPECT_EQ(read_image_file(dir.file("ok.png")).pixels, gradient_image(5, 3).pixels);
}

}  // namespace
}  // namespace distsgd::data
