#pragma once
// Encoding small test images with the same libraries the decoders use
// (TurboJPEG, libpng's simplified writer), so that tests know every pixel they
// decode, and writing image folders of them.
#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/image_decode.hpp"
#include "data_test_util.hpp"

namespace distsgd::data::testing {

// width x height RGB with a smooth pattern that JPEG keeps within a few levels.
inline RgbImage gradient_image(int64_t width, int64_t height, int seed = 0) {
  RgbImage image{width, height, std::vector<uint8_t>(static_cast<std::size_t>(width * height * 3))};
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      uint8_t* p = &image.pixels[static_cast<std::size_t>((y * width + x) * 3)];
      p[0] = static_cast<uint8_t>((x * 255) / std::max<int64_t>(width - 1, 1));
      p[1] = static_cast<uint8_t>((y * 255) / std::max<int64_t>(height - 1, 1));
      p[2] = static_cast<uint8_t>((seed * 37 + 60) % 256);
    }
  return image;
}

inline RgbImage solid_image(int64_t width, int64_t height, uint8_t r, uint8_t g, uint8_t b) {
  RgbImage image{width, height, {}};
  for (int64_t i = 0; i < width * height; ++i) image.pixels.insert(image.pixels.end(), {r, g, b});
  return image;
}

// pixel_format: TJPF_RGB (3 bytes), TJPF_GRAY (1) or TJPF_CMYK (4) input.
inline Bytes encode_jpeg(const uint8_t* pixels, int width, int height, int pixel_format,
                         int quality = 100, int subsampling = TJSAMP_444) {
  tjhandle handle = tjInitCompress();
  unsigned char* out = nullptr;
  unsigned long size = 0;
  if (pixel_format == TJPF_GRAY) subsampling = TJSAMP_GRAY;
  const int rc = tjCompress2(handle, pixels, width, 0, height, pixel_format, &out, &size,
                             subsampling, quality, 0);
  Bytes bytes;
  if (rc == 0) bytes.assign(out, out + size);
  tjFree(out);
  tjDestroy(handle);
  EXPECT_EQ(rc, 0) << "tjCompress2 failed";
  return bytes;
}

inline Bytes encode_jpeg(const RgbImage& image, int quality = 100) {
  return encode_jpeg(image.pixels.data(), static_cast<int>(image.width),
                     static_cast<int>(image.height), TJPF_RGB, quality);
}

// format: PNG_FORMAT_RGB, _RGBA, _GRAY, ... with pixels to match; with a
// colormap (PNG_FORMAT_RGB_COLORMAP), `pixels` are indices into `colormap`.
inline Bytes encode_png(const uint8_t* pixels, int width, int height, uint32_t format,
                        const uint8_t* colormap = nullptr, int colormap_entries = 0) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<uint32_t>(width);
  image.height = static_cast<uint32_t>(height);
  image.format = format;
  image.colormap_entries = static_cast<uint32_t>(colormap_entries);
  png_alloc_size_t size = 0;
  EXPECT_TRUE(png_image_write_get_memory_size(image, size, 0, pixels, 0, colormap));
  Bytes bytes(size);
  EXPECT_TRUE(png_image_write_to_memory(&image, bytes.data(), &size, 0, pixels, 0, colormap))
      << image.message;
  bytes.resize(size);
  return bytes;
}

inline Bytes encode_png(const RgbImage& image) {
  return encode_png(image.pixels.data(), static_cast<int>(image.width),
                    static_cast<int>(image.height), PNG_FORMAT_RGB);
}

// An image folder: for each split, for each class, `per_class` files, each a
// solid colour of its class (class c: red = 40 * c + 20), alternating JPEG and
// PNG, width x height.
inline void write_image_folder(const std::filesystem::path& root,
                               const std::vector<std::string>& classes, int per_class,
                               int width = 20, int height = 16) {
  for (const char* split : {"train", "val"})
    for (std::size_t c = 0; c < classes.size(); ++c) {
      const auto dir = root / split / classes[c];
      std::filesystem::create_directories(dir);
      const auto image = solid_image(width, height, static_cast<uint8_t>(40 * c + 20), 100, 200);
      for (int i = 0; i < per_class; ++i) {
        const bool jpeg = i % 2 == 0;
        write_raw((dir / ("img" + std::to_string(i) + (jpeg ? ".jpg" : ".png"))).string(),
                  jpeg ? encode_jpeg(image) : encode_png(image));
      }
    }
}

}  // namespace distsgd::data::testing
