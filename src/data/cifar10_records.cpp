#include "data/cifar10_records.hpp"

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>

#include "core/errors.hpp"

namespace distsgd::data {
namespace {

constexpr int64_t kClasses = 10;

}  // namespace

void append_cifar10_records(const std::string& path, std::vector<uint8_t>& pixels,
                            std::vector<int64_t>& labels) {
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
  const size_t first_pixel = pixels.size();
  pixels.resize(first_pixel + static_cast<size_t>(records * image_bytes));
  labels.reserve(labels.size() + static_cast<size_t>(records));
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t* record = raw.data() + r * kCifarRecordBytes;
    if (record[0] >= kClasses) {
      throw DataError(path + ": record " + std::to_string(r) + " has label " +
                      std::to_string(record[0]) + " (expected 0..9)");
    }
    labels.push_back(record[0]);
    std::copy(record + 1, record + kCifarRecordBytes,
              pixels.begin() + static_cast<std::ptrdiff_t>(first_pixel + r * image_bytes));
  }
}

}  // namespace distsgd::data
