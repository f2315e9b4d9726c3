// The image decoding path (data/image_decode.hpp, data/image_transforms.hpp):
// the input is a whole file, JPEG or PNG by its signature (the first byte
// picks a decoder too, so both see mutated inputs); what decodes is then put
// through the val crop and a random resized crop drawn from the input. Only
// DataError may escape, and the limits are tight so that an input claiming a
// large image costs an error, not the fuzzer's memory.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/random.hpp"
#include "data/image_decode.hpp"
#include "data/image_transforms.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distsgd;
  const std::span<const uint8_t> bytes(data, size);
  const data::DecodeLimits limits{2048, int64_t{1} << 20};
  auto check = [&](const data::RgbImage& image) {
    // What a successful decode promises its callers.
    if (image.width < 1 || image.height < 1 || image.width > limits.max_side ||
        image.height > limits.max_side ||
        image.pixels.size() != static_cast<size_t>(image.width * image.height * 3))
      std::abort();
    const int64_t out = 1 + static_cast<int64_t>(size % 24);
    std::vector<float> dst(static_cast<size_t>(3 * out * out));
    data::write_val_crop(image, out, dst.data());
    SplitMix64 rng(size);
    data::write_resized_crop(image, data::draw_random_resized_crop(image.height, image.width, rng),
                             out, dst.data());
  };
  fuzz::expect_data_error_only("decode_image", [&] { check(data::decode_image(bytes, "input", limits)); });
  // Each decoder on its own, whatever the signature says.
  if (size > 0 && (data[0] & 1)) {
    fuzz::expect_data_error_only("decode_jpeg", [&] { check(data::decode_jpeg(bytes, "input", limits)); });
  } else {
    fuzz::expect_data_error_only("decode_png", [&] { check(data::decode_png(bytes, "input", limits)); });
  }
  return 0;
}
