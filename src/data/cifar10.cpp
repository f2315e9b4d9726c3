#include "data/cifar10.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>

#include "core/errors.hpp"

namespace distsgd::data {
namespace {

constexpr int64_t kClasses = 10;
constexpr int64_t kAugmentPad = 4;

Normalization cifar10_normalization() {
  return Normalization{{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}};
}

std::unique_ptr<Dataset> load_part(const std::string& dir, std::initializer_list<const char*> files,
                                   int64_t augment_pad) {
  Uint8Samples samples;
  samples.shape = SampleShape{3, 32, 32};
  for (const char* file : files) {
    append_cifar10_file((std::filesystem::path(dir) / file).string(), samples);
  }
  return std::make_unique<Uint8Dataset>(
      std::move(samples), Uint8DatasetSpec{kClasses, cifar10_normalization(), augment_pad});
}

}  // namespace

void append_cifar10_file(const std::string& path, Uint8Samples& into) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw DataError(path + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open");
  const auto bytes = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  if (ec) throw DataError(path + ": cannot read its size: " + ec.message());
  if (bytes == 0 || bytes % kCifarRecordBytes != 0) {
    throw DataError(path + ": size " + std::to_string(bytes) +
                    " bytes is not a positive multiple of 3073 (a record is 1 label byte and "
                    "3x32x32 pixels)");
  }
  std::vector<uint8_t> raw(static_cast<size_t>(bytes));
  if (!in.read(reinterpret_cast<char*>(raw.data()), bytes)) {
    throw DataError(path + ": read failed after " + std::to_string(in.gcount()) + " bytes");
  }
  const int64_t records = bytes / kCifarRecordBytes;
  const int64_t image_bytes = kCifarRecordBytes - 1;
  const size_t first_pixel = into.pixels.size();
  into.pixels.resize(first_pixel + static_cast<size_t>(records * image_bytes));
  into.labels.reserve(into.labels.size() + static_cast<size_t>(records));
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t* record = raw.data() + r * kCifarRecordBytes;
    if (record[0] >= kClasses) {
      throw DataError(path + ": record " + std::to_string(r) + " has label " +
                      std::to_string(record[0]) + " (expected 0..9)");
    }
    into.labels.push_back(record[0]);
    std::copy(record + 1, record + kCifarRecordBytes,
              into.pixels.begin() + static_cast<std::ptrdiff_t>(first_pixel + r * image_bytes));
  }
}

Datasets load_cifar10(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw DataError(dir + ": no such data directory");
  Datasets sets;
  sets.train = load_part(dir,
                         {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                          "data_batch_4.bin", "data_batch_5.bin"},
                         kAugmentPad);
  sets.test = load_part(dir, {"test_batch.bin"}, 0);
  return sets;
}

}  // namespace distsgd::data
