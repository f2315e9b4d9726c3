// decode_jpeg (image_decode.hpp) with the TurboJPEG API of libjpeg-turbo.
#include <turbojpeg.h>

#include <memory>

#include "core/errors.hpp"
#include "data/image_decode.hpp"

namespace distsgd::data {
namespace {

struct HandleCloser {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using Handle = std::unique_ptr<void, HandleCloser>;

// One decompressor per thread: a handle is not safe to share, and creating
// one per image would cost an allocation of its tables each time. After a
// failure it is replaced: a handle whose last decompression failed can
// misread the next header (seen with 2.1.5: a valid file read as 0x0).
Handle& thread_handle() {
  thread_local Handle handle(tjInitDecompress());
  return handle;
}

// Warnings (a truncated file, corrupt data) are errors: libjpeg would fill
// the rest of the image with grey and the model would train on it.
// LIMITSCANS: a progressive file of thousands of scans is a denial of
// service, not a photograph.
constexpr int kFlags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;

[[noreturn]] void fail(tjhandle handle, const std::string& name) {
  throw DataError(name + ": not a decodable JPEG file (" + tjGetErrorStr2(handle) + ")");
}

RgbImage decode_with(tjhandle handle, std::span<const uint8_t> bytes, const std::string& name,
                     const DecodeLimits& limits) {
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle, bytes.data(), static_cast<unsigned long>(bytes.size()), &width,
                          &height, &subsampling, &colorspace) != 0)
    fail(handle, name);
  check_image_size(width, height, limits, name);
  RgbImage image{width, height, {}};
  const auto pixels = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    // libjpeg-turbo converts CMYK only to CMYK; such files (Adobe's) store
    // inverted ink values, so R = C * K / 255 and so on.
    std::vector<uint8_t> cmyk(pixels * 4);
    if (tjDecompress2(handle, bytes.data(), static_cast<unsigned long>(bytes.size()), cmyk.data(),
                      width, 0, height, TJPF_CMYK, kFlags) != 0)
      fail(handle, name);
    image.pixels.resize(pixels * 3);
    for (std::size_t i = 0; i < pixels; ++i) {
      const unsigned k = cmyk[i * 4 + 3];
      for (int c = 0; c < 3; ++c)
        image.pixels[i * 3 + c] = static_cast<uint8_t>((cmyk[i * 4 + c] * k + 127) / 255);
    }
    return image;
  }
  image.pixels.resize(pixels * 3);
  if (tjDecompress2(handle, bytes.data(), static_cast<unsigned long>(bytes.size()),
                    image.pixels.data(), width, 0, height, TJPF_RGB, kFlags) != 0)
    fail(handle, name);
  return image;
}

}  // namespace

RgbImage decode_jpeg(std::span<const uint8_t> bytes, const std::string& name,
                     const DecodeLimits& limits) {
  Handle& handle = thread_handle();
  if (!handle) throw DataError(name + ": the JPEG decoder could not be created");
  try {
    return decode_with(handle.get(), bytes, name, limits);
  } catch (const DataError&) {
    handle.reset(tjInitDecompress());
    throw;
  }
}

}  // namespace distsgd::data
