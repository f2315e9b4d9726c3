#pragma once
// The torch-free part of the CIFAR-10 reader: one binary file of 3073-byte
// records (a label byte, then a 3x32x32 image stored channel by channel)
// validated and appended to plain vectors. Kept apart from cifar10.hpp so that
// the fuzz targets (fuzz/) build it without LibTorch.
#include <cstdint>
#include <string>
#include <vector>

namespace distsgd::data {

inline constexpr int64_t kCifarRecordBytes = 1 + 3 * 32 * 32;

// Appends the file's images (3072 bytes each) to `pixels` and its labels to
// `labels`; DataError names the file if it is missing, its size is not a
// positive multiple of 3073, or a label is above 9.
void append_cifar10_records(const std::string& path, std::vector<uint8_t>& pixels,
                            std::vector<int64_t>& labels);

}  // namespace distsgd::data
