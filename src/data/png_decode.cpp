// decode_png (image_decode.hpp) with libpng's simplified API, which reads
// from memory, converts every colour type and reports errors as a message
// instead of a longjmp through our frames.
#include <png.h>

#include "core/errors.hpp"
#include "data/image_decode.hpp"

namespace distsgd::data {
namespace {

// Frees libpng's state on every path out (png_image_free is safe to repeat).
struct ImageGuard {
  png_image image{};
  ImageGuard() { image.version = PNG_IMAGE_VERSION; }
  ~ImageGuard() { png_image_free(&image); }
};

[[noreturn]] void fail(const png_image& image, const std::string& name) {
  throw DataError(name + ": not a decodable PNG file (" + image.message + ")");
}

}  // namespace

RgbImage decode_png(std::span<const uint8_t> bytes, const std::string& name,
                    const DecodeLimits& limits) {
  ImageGuard guard;
  png_image& image = guard.image;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) fail(image, name);
  check_image_size(image.width, image.height, limits, name);
  const bool alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  // With alpha, read RGBA and drop it (PIL's convert("RGB")) rather than let
  // libpng composite onto a background.
  image.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  const auto pixels = static_cast<std::size_t>(image.width) * image.height;
  std::vector<uint8_t> buffer(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, buffer.data(), 0, nullptr)) fail(image, name);
  RgbImage out{image.width, image.height, {}};
  if (!alpha) {
    out.pixels = std::move(buffer);
    return out;
  }
  out.pixels.resize(pixels * 3);
  for (std::size_t i = 0; i < pixels; ++i)
    for (int c = 0; c < 3; ++c) out.pixels[i * 3 + c] = buffer[i * 4 + c];
  return out;
}

}  // namespace distsgd::data
