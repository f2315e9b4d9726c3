// decode_image's dispatch by signature, the size check and reading a file
// (the decoders themselves: jpeg_decode.cpp, png_decode.cpp).
#include <cstring>
#include <fstream>

#include "core/errors.hpp"
#include "data/image_decode.hpp"

namespace distsgd::data {
namespace {

// Larger than any photograph; a bound so that a huge file is an error, not a read.
constexpr std::streamoff kMaxFileBytes = std::streamoff{256} << 20;

bool starts_with(std::span<const uint8_t> bytes, std::initializer_list<uint8_t> prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.begin(), prefix.size()) == 0;
}

}  // namespace

void check_image_size(int64_t width, int64_t height, const DecodeLimits& limits,
                      const std::string& name) {
  if (width <= 0 || height <= 0)
    throw DataError(name + ": the image claims a size of " + std::to_string(width) + "x" +
                    std::to_string(height) + " pixels");
  if (width > limits.max_side || height > limits.max_side ||
      width * height > limits.max_pixels)
    throw DataError(name + ": the image claims " + std::to_string(width) + "x" +
                    std::to_string(height) + " pixels, over the limit of " +
                    std::to_string(limits.max_side) + " a side and " +
                    std::to_string(limits.max_pixels) + " pixels");
}

RgbImage decode_image(std::span<const uint8_t> bytes, const std::string& name,
                      const DecodeLimits& limits) {
  if (starts_with(bytes, {0xFF, 0xD8, 0xFF})) return decode_jpeg(bytes, name, limits);
  if (starts_with(bytes, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}))
    return decode_png(bytes, name, limits);
  throw DataError(name + ": neither a JPEG nor a PNG file (" + std::to_string(bytes.size()) +
                  " bytes, no JPEG or PNG signature)");
}

RgbImage read_image_file(const std::string& path, const DecodeLimits& limits) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw DataError(path + ": cannot be opened for reading");
  const std::streamoff size = in.tellg();
  if (size < 0) throw DataError(path + ": cannot be read");
  if (size > kMaxFileBytes)
    throw DataError(path + ": " + std::to_string(size) + " bytes, over the 256 MiB an image may have");
  std::vector<uint8_t> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw DataError(path + ": cannot be read");
  return decode_image(bytes, path, limits);
}

}  // namespace distsgd::data
