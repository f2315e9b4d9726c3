// IDX readers (data/idx_reader.hpp): the input is a whole file, gzipped or raw.
// Both readers see every input; the magic number sends all but one of them
// away at once, so one target covers both.
#include <cstdint>
#include <cstdlib>

#include "data/idx_reader.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distsgd;
  const std::string path = fuzz::write_input("input.idx", data, size);
  fuzz::expect_data_error_only("read_idx_images", [&] {
    const data::IdxImages images = data::read_idx_images(path);
    // What a successful read promises its callers.
    if (images.count <= 0 || images.rows <= 0 || images.cols <= 0 ||
        images.pixels.size() != static_cast<size_t>(images.count * images.rows * images.cols)) {
      std::abort();
    }
  });
  fuzz::expect_data_error_only("read_idx_labels", [&] {
    const std::vector<int64_t> labels = data::read_idx_labels(path, 10);
    if (labels.empty()) std::abort();
    for (int64_t label : labels) {
      if (label < 0 || label >= 10) std::abort();
    }
  });
  return 0;
}
