#pragma once
// Readers for IDX files of unsigned bytes, the format of MNIST and
// Fashion-MNIST: images (magic 0x00000803: count, rows, cols) and labels
// (magic 0x00000801: count). Gzipped and raw files are read alike.
//
// Every defect (no such file, wrong magic, a short header, fewer bytes than the
// header declares, bytes after them, no images, a label out of range) throws
// DataError with the file's path and what is wrong. Trailing bytes count as a
// defect: a well-formed IDX file ends where its header says.
#include <cstdint>
#include <string>
#include <vector>

namespace distsgd::data {

struct IdxImages {
  int64_t count = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint8_t> pixels;  // count x rows x cols
};

IdxImages read_idx_images(const std::string& path);

// Labels must lie in [0, num_classes).
std::vector<int64_t> read_idx_labels(const std::string& path, int64_t num_classes);

}  // namespace distsgd::data
