#include "data/idx_reader.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

#include "core/errors.hpp"
#include "data/gz_reader.hpp"

namespace distsgd::data {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
// Guards the size arithmetic against absurd headers; real images are far smaller.
constexpr uint32_t kMaxSide = 1 << 15;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Reads the big-endian header of `words` 32-bit integers.
std::array<uint32_t, 4> read_header(GzReader& in, int words, const char* kind) {
  std::array<unsigned char, 16> bytes{};
  const size_t want = static_cast<size_t>(words) * 4;
  const size_t got = in.read(bytes.data(), want);
  if (got < want) {
    throw DataError(in.path() + ": truncated header: " + std::to_string(got) +
                    " bytes, but an IDX " + kind + " file starts with " + std::to_string(want));
  }
  std::array<uint32_t, 4> header{};
  for (int i = 0; i < words; ++i) {
    const unsigned char* b = bytes.data() + 4 * i;
    header[i] = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  }
  return header;
}

void check_magic(const GzReader& in, uint32_t magic, uint32_t expected, const char* kind) {
  if (magic != expected) {
    throw DataError(in.path() + ": bad magic number " + hex32(magic) + " (an IDX " + kind +
                    " file starts with " + hex32(expected) + ")");
  }
}

// Reads exactly `expected` bytes after the header, growing the buffer as data
// arrives (64 KiB, then doubling, at most 16 MiB a step) so that a corrupt
// header cannot make us allocate terabytes first, nor a tiny file 16 MiB.
// `declared` describes the header's promise for the error message.
std::vector<uint8_t> read_body(GzReader& in, uint64_t expected, const std::string& declared) {
  constexpr uint64_t kMaxChunk = uint64_t{16} << 20;
  uint64_t chunk = uint64_t{64} << 10;
  std::vector<uint8_t> data;
  uint64_t done = 0;
  while (done < expected) {
    const uint64_t want = std::min(chunk, expected - done);
    chunk = std::min(2 * chunk, kMaxChunk);
    data.resize(done + want);
    const size_t got = in.read(data.data() + done, want);
    done += got;
    if (got < want) {
      throw DataError(in.path() + ": truncated: header says " + declared + " but only " +
                      std::to_string(done) + " bytes follow the header" +
                      (in.cut_short() ? " (the gzip stream ends early)" : ""));
    }
  }
  const uint64_t extra = in.skip_rest();
  if (extra > 0) {
    throw DataError(in.path() + ": " + std::to_string(extra) +
                    " unexpected bytes after the data: header says " + declared);
  }
  return data;
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  GzReader in(path);
  const auto header = read_header(in, 4, "image");
  check_magic(in, header[0], kImagesMagic, "image");
  const uint32_t count = header[1];
  const uint32_t rows = header[2];
  const uint32_t cols = header[3];
  if (count == 0) throw DataError(path + ": holds no images (header count is 0)");
  if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide) {
    throw DataError(path + ": implausible image size " + std::to_string(rows) + "x" +
                    std::to_string(cols) + " in the header");
  }
  const uint64_t bytes = uint64_t{count} * rows * cols;
  const std::string declared = std::to_string(count) + " images of " + std::to_string(rows) + "x" +
                               std::to_string(cols) + " (" + std::to_string(bytes) + " bytes)";
  IdxImages images;
  images.count = count;
  images.rows = rows;
  images.cols = cols;
  images.pixels = read_body(in, bytes, declared);
  return images;
}

std::vector<int64_t> read_idx_labels(const std::string& path, int64_t num_classes) {
  GzReader in(path);
  const auto header = read_header(in, 2, "label");
  check_magic(in, header[0], kLabelsMagic, "label");
  const uint32_t count = header[1];
  if (count == 0) throw DataError(path + ": holds no labels (header count is 0)");
  const std::vector<uint8_t> raw =
      read_body(in, count, std::to_string(count) + " labels (" + std::to_string(count) + " bytes)");
  std::vector<int64_t> labels(raw.begin(), raw.end());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= num_classes) {
      throw DataError(path + ": label " + std::to_string(labels[i]) + " at index " +
                      std::to_string(i) + " is out of range (expected 0.." +
                      std::to_string(num_classes - 1) + ")");
    }
  }
  return labels;
}

}  // namespace distsgd::data
