#pragma once
// Decoding untrusted image files (JPEG via libjpeg-turbo's TurboJPEG API, PNG
// via libpng's simplified API) into 8-bit RGB, rows top to bottom, HWC.
//
// Contract: the size the header claims is checked against DecodeLimits before
// any pixel buffer is allocated; a malformed, truncated or unsupported file,
// or one over the limits, throws DataError whose message starts with `name`.
// Nothing else escapes (the fuzz target fuzz/fuzz_image.cpp holds it to this).
// Grayscale, CMYK/YCCK and palette images come out as RGB; PNG alpha is
// dropped (as PIL's convert("RGB") does). Safe to call from several threads.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace distsgd::data {

struct RgbImage {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<uint8_t> pixels;  // height x width x 3
};

struct DecodeLimits {
  int64_t max_side = 16384;           // pixels, either side
  int64_t max_pixels = int64_t{1} << 28;  // width x height
};

// Checks a header's claim against the limits; throws DataError naming `name`.
void check_image_size(int64_t width, int64_t height, const DecodeLimits& limits,
                      const std::string& name);

// By content, not by extension: JPEG (FF D8 FF) or PNG (its 8-byte signature).
RgbImage decode_image(std::span<const uint8_t> bytes, const std::string& name,
                      const DecodeLimits& limits = {});
RgbImage decode_jpeg(std::span<const uint8_t> bytes, const std::string& name,
                     const DecodeLimits& limits = {});
RgbImage decode_png(std::span<const uint8_t> bytes, const std::string& name,
                    const DecodeLimits& limits = {});

// Reads and decodes a file; a file that cannot be read, or is over 256 MiB,
// is a DataError naming its path.
RgbImage read_image_file(const std::string& path, const DecodeLimits& limits = {});

}  // namespace distsgd::data
