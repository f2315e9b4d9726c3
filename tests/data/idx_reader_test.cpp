#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "core/errors.hpp"
#include "data/idx_dataset.hpp"
#include "data/idx_reader.hpp"
#include "data_test_util.hpp"

namespace distsgd::data {
namespace {

using testing::Bytes;
using testing::contains;
using testing::idx_images;
using testing::idx_labels;
using testing::message_of;
using testing::TempDir;

Bytes ramp(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 7 + 3) % 256);
  return b;
}

void expect_data_error(const std::string& path, const std::string& what, bool images = true) {
  const std::string msg = message_of<DataError>([&] {
    if (images) {
      read_idx_images(path);
    } else {
      read_idx_labels(path, 10);
    }
  });
  EXPECT_TRUE(contains(msg, path)) << msg;
  EXPECT_TRUE(contains(msg, what)) << msg;
}

TEST(IdxReader, RawImagesParseExactly) {
  TempDir dir;
  const Bytes pixels = ramp(3 * 2 * 4);
  testing::write_raw(dir.file("img"), idx_images(3, 2, 4, pixels));
  const IdxImages images = read_idx_images(dir.file("img"));
  EXPECT_EQ(images.count, 3);
  EXPECT_EQ(images.rows, 2);
  EXPECT_EQ(images.cols, 4);
  EXPECT_EQ(images.pixels, pixels);
}

TEST(IdxReader, GzippedImagesParseExactly) {
  TempDir dir;
  const Bytes pixels = ramp(5 * 28 * 28);
  testing::write_gz(dir.file("img.gz"), idx_images(5, 28, 28, pixels));
  const IdxImages images = read_idx_images(dir.file("img.gz"));
  EXPECT_EQ(images.count, 5);
  EXPECT_EQ(images.rows, 28);
  EXPECT_EQ(images.cols, 28);
  EXPECT_EQ(images.pixels, pixels);
}

TEST(IdxReader, LabelsParseExactlyRawAndGzipped) {
  TempDir dir;
  const Bytes labels{0, 9, 3, 3, 7};
  testing::write_raw(dir.file("lab"), idx_labels(5, labels));
  testing::write_gz(dir.file("lab.gz"), idx_labels(5, labels));
  const std::vector<int64_t> expected{0, 9, 3, 3, 7};
  EXPECT_EQ(read_idx_labels(dir.file("lab"), 10), expected);
  EXPECT_EQ(read_idx_labels(dir.file("lab.gz"), 10), expected);
}

TEST(IdxReader, MissingFile) {
  TempDir dir;
  expect_data_error(dir.file("nope-images"), "no such file");
  expect_data_error(dir.file("nope-labels"), "no such file", false);
}

TEST(IdxReader, BadMagic) {
  TempDir dir;
  testing::write_raw(dir.file("img"), idx_images(1, 2, 2, ramp(4), 0x00000801));
  expect_data_error(dir.file("img"), "bad magic number 0x00000801");
  // A label file given where images are expected, and images where labels are.
  testing::write_gz(dir.file("lab.gz"), idx_images(1, 1, 1, ramp(1)));
  expect_data_error(dir.file("lab.gz"), "bad magic number 0x00000803", false);
}

TEST(IdxReader, TruncatedHeader) {
  TempDir dir;
  Bytes header = idx_images(1, 2, 2, {});
  header.resize(7);
  testing::write_raw(dir.file("img"), header);
  expect_data_error(dir.file("img"), "truncated header: 7 bytes");
  testing::write_raw(dir.file("empty"), {});
  expect_data_error(dir.file("empty"), "truncated header: 0 bytes", false);
}

TEST(IdxReader, TruncatedData) {
  TempDir dir;
  testing::write_raw(dir.file("img"), idx_images(60000, 28, 28, ramp(1000)));
  expect_data_error(dir.file("img"),
                    "truncated: header says 60000 images of 28x28 (47040000 bytes) but only 1000 "
                    "bytes follow");
  testing::write_gz(dir.file("img.gz"), idx_images(3, 2, 2, ramp(11)));
  expect_data_error(dir.file("img.gz"), "but only 11 bytes follow");
  testing::write_gz(dir.file("lab.gz"), idx_labels(4, {1, 2, 3}));
  expect_data_error(dir.file("lab.gz"), "header says 4 labels", false);
}

TEST(IdxReader, TruncatedGzipStream) {
  TempDir dir;
  // Incompressible-ish content so that cutting the .gz in half cuts the data.
  Bytes pixels(100 * 28 * 28);
  uint64_t x = 12345;
  for (auto& p : pixels) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    p = static_cast<uint8_t>(x >> 56);
  }
  const std::string path = dir.file("img.gz");
  testing::write_gz(path, idx_images(100, 28, 28, pixels));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  expect_data_error(path, "truncated");
}

TEST(IdxReader, TrailingBytesAreAnError) {
  TempDir dir;
  testing::write_raw(dir.file("img"), idx_images(2, 2, 2, ramp(8 + 5)));
  expect_data_error(dir.file("img"), "5 unexpected bytes after the data");
  testing::write_gz(dir.file("lab.gz"), idx_labels(2, {1, 2, 3}));
  expect_data_error(dir.file("lab.gz"), "1 unexpected bytes", false);
}

TEST(IdxReader, ZeroImagesOrZeroSize) {
  TempDir dir;
  testing::write_raw(dir.file("img"), idx_images(0, 28, 28, {}));
  expect_data_error(dir.file("img"), "no images");
  testing::write_raw(dir.file("flat"), idx_images(1, 0, 28, {}));
  expect_data_error(dir.file("flat"), "implausible image size 0x28");
  testing::write_raw(dir.file("lab"), idx_labels(0, {}));
  expect_data_error(dir.file("lab"), "no labels", false);
}

TEST(IdxReader, HugeHeaderDoesNotAllocateBeforeReading) {
  TempDir dir;
  // 4e9 images of 32768x32768 would be far beyond memory; the reader must
  // report truncation rather than die allocating.
  testing::write_raw(dir.file("img"), idx_images(4000000000u, 32768, 32768, ramp(10)));
  expect_data_error(dir.file("img"), "truncated");
}

TEST(IdxReader, LabelOutOfRange) {
  TempDir dir;
  testing::write_raw(dir.file("lab"), idx_labels(4, {1, 2, 10, 3}));
  expect_data_error(dir.file("lab"), "label 10 at index 2 is out of range", false);
  // In range for more classes.
  EXPECT_EQ(read_idx_labels(dir.file("lab"), 11)[2], 10);
}

TEST(IdxDataset, CountMismatchNamesBothFiles) {
  TempDir dir;
  testing::write_raw(dir.file("img"), idx_images(3, 2, 2, ramp(12)));
  testing::write_raw(dir.file("lab"), idx_labels(2, {1, 2}));
  const std::string msg = message_of<DataError>([&] {
    load_idx_part(dir.file("img"), dir.file("lab"), Normalization{{0.5f}, {0.5f}});
  });
  EXPECT_TRUE(contains(
      msg, dir.file("lab") + ": holds 2 labels but " + dir.file("img") + " holds 3 images"))
      << msg;
}

TEST(IdxDataset, FindPrefersGzipThenRaw) {
  TempDir dir;
  testing::write_raw(dir.file("a"), {1});
  testing::write_raw(dir.file("a.gz"), {1});
  testing::write_raw(dir.file("b"), {1});
  EXPECT_EQ(find_idx_file(dir.str(), "a"), dir.file("a.gz"));
  EXPECT_EQ(find_idx_file(dir.str(), "b"), dir.file("b"));
  const std::string msg = message_of<DataError>([&] { find_idx_file(dir.str(), "c"); });
  EXPECT_TRUE(contains(msg, dir.file("c.gz"))) << msg;
  const std::string gone = dir.file("missing-dir");
  EXPECT_TRUE(contains(message_of<DataError>([&] { find_idx_file(gone, "a"); }), gone));
}

}  // namespace
}  // namespace distsgd::data
