// CIFAR-10 binary reader (data/cifar10_records.hpp, the torch-free part of
// append_cifar10_file): the input is a whole data_batch_*.bin file.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "data/cifar10_records.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distsgd;
  const std::string path = fuzz::write_input("data_batch.bin", data, size);
  fuzz::expect_data_error_only("append_cifar10_records", [&] {
    // Appends to what an earlier file left, as load_cifar10 does.
    std::vector<uint8_t> pixels(3072, 7);
    std::vector<int64_t> labels{3};
    data::append_cifar10_records(path, pixels, labels);
    const auto records = static_cast<size_t>(size / data::kCifarRecordBytes);
    if (labels.size() != 1 + records || pixels.size() != 3072 * (1 + records)) std::abort();
    for (int64_t label : labels) {
      if (label < 0 || label > 9) std::abort();
    }
  });
  return 0;
}
