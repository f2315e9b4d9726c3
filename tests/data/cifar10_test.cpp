#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <numeric>
#include <set>

#include "core/errors.hpp"
#include "data/cifar10.hpp"
#include "data_test_util.hpp"

namespace distsgd::data {
namespace {

using testing::Bytes;
using testing::contains;
using testing::message_of;
using testing::TempDir;

const char* const kTrainFiles[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                   "data_batch_4.bin", "data_batch_5.bin"};

// Record r of file f: label (f + r) % 10, pixels a function of (f, r, position).
uint8_t pixel(int file, int record, int pos) {
  return static_cast<uint8_t>((file * 31 + record * 17 + pos * 13 + (pos >> 5) * 7) % 256);
}

Bytes cifar_file(int file, int records) {
  Bytes out;
  for (int r = 0; r < records; ++r) {
    out.push_back(static_cast<uint8_t>((file + r) % 10));
    for (int p = 0; p < 3072; ++p) out.push_back(pixel(file, r, p));
  }
  return out;
}

// Five training files of 3 records and a test file of 2.
void write_cifar_dir(const TempDir& dir) {
  for (int f = 0; f < 5; ++f) testing::write_raw(dir.file(kTrainFiles[f]), cifar_file(f, 3));
  testing::write_raw(dir.file("test_batch.bin"), cifar_file(5, 2));
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

// Independent reference: pixels of record (file, r) normalised by the CIFAR
// constants, as a [3, 32, 32] tensor.
torch::Tensor reference_image(int file, int record) {
  auto raw = torch::empty({3072}, torch::kFloat32);
  for (int p = 0; p < 3072; ++p) raw[p] = pixel(file, record, p);
  return raw.reshape({3, 32, 32});
}

torch::Tensor normalise(const torch::Tensor& pixels) {
  const auto mean = torch::tensor({0.4914f, 0.4822f, 0.4465f}).reshape({3, 1, 1});
  const auto std = torch::tensor({0.2470f, 0.2435f, 0.2616f}).reshape({3, 1, 1});
  return (pixels / 255.0f - mean) / std;
}

TEST(Cifar10, LoadsAllFilesInOrder) {
  TempDir dir;
  write_cifar_dir(dir);
  const Datasets sets = load_cifar10(dir.str());
  EXPECT_EQ(sets.train->size(), 15);
  EXPECT_EQ(sets.test->size(), 2);
  EXPECT_EQ(sets.train->num_classes(), 10);
  EXPECT_EQ(sets.train->shape().channels, 3);
  EXPECT_EQ(sets.train->shape().height, 32);
  EXPECT_EQ(sets.train->shape().width, 32);

  const Batch train = sets.train->batch(iota(15));
  EXPECT_EQ(train.inputs.sizes(), (std::vector<int64_t>{15, 3, 32, 32}));
  for (int f = 0; f < 5; ++f) {
    for (int r = 0; r < 3; ++r) {
      EXPECT_EQ(train.targets[f * 3 + r].item<int64_t>(), (f + r) % 10);
      EXPECT_TRUE(
          torch::allclose(train.inputs[f * 3 + r], normalise(reference_image(f, r)), 1e-5, 1e-5))
          << "file " << f << " record " << r;
    }
  }
  const Batch test = sets.test->batch(std::vector<int64_t>{1});
  EXPECT_EQ(test.targets[0].item<int64_t>(), 6);
  EXPECT_TRUE(torch::allclose(test.inputs[0], normalise(reference_image(5, 1)), 1e-5, 1e-5));
}

TEST(Cifar10, BadSizeNamesFile) {
  TempDir dir;
  write_cifar_dir(dir);
  Bytes bad = cifar_file(1, 2);
  bad.resize(bad.size() - 100);
  testing::write_raw(dir.file("data_batch_2.bin"), bad);
  const std::string msg = message_of<DataError>([&] { load_cifar10(dir.str()); });
  EXPECT_TRUE(contains(msg, dir.file("data_batch_2.bin"))) << msg;
  EXPECT_TRUE(contains(msg, "size 6046 bytes is not a positive multiple of 3073")) << msg;

  testing::write_raw(dir.file("data_batch_2.bin"), {});
  EXPECT_TRUE(contains(message_of<DataError>([&] { load_cifar10(dir.str()); }), "size 0 bytes"));
}

TEST(Cifar10, BadLabelNamesFileAndRecord) {
  TempDir dir;
  write_cifar_dir(dir);
  Bytes bad = cifar_file(0, 3);
  bad[2 * kCifarRecordBytes] = 10;
  testing::write_raw(dir.file("test_batch.bin"), bad);
  const std::string msg = message_of<DataError>([&] { load_cifar10(dir.str()); });
  EXPECT_TRUE(contains(msg, dir.file("test_batch.bin") + ": record 2 has label 10")) << msg;
}

TEST(Cifar10, MissingFileNamed) {
  TempDir dir;
  write_cifar_dir(dir);
  std::filesystem::remove(dir.file("data_batch_4.bin"));
  const std::string msg = message_of<DataError>([&] { load_cifar10(dir.str()); });
  EXPECT_TRUE(contains(msg, dir.file("data_batch_4.bin") + ": no such file")) << msg;
  const std::string gone = dir.file("nowhere");
  EXPECT_TRUE(contains(message_of<DataError>([&] { load_cifar10(gone); }), gone));
}

class Cifar10Augment : public ::testing::Test {
 protected:
  void SetUp() override {
    write_cifar_dir(dir_);
    sets_ = load_cifar10(dir_.str());
  }
  TempDir dir_;
  Datasets sets_;
};

TEST_F(Cifar10Augment, DeterministicPerSeedAndShapePreserving) {
  const std::vector<int64_t> indices{0, 4, 4, 7, 14, 2, 9, 11};
  const Batch a = sets_.train->batch(indices, 42);
  const Batch b = sets_.train->batch(indices, 42);
  const Batch c = sets_.train->batch(indices, 43);
  const Batch plain = sets_.train->batch(indices);
  EXPECT_EQ(a.inputs.sizes(), plain.inputs.sizes());
  EXPECT_TRUE(torch::equal(a.inputs, b.inputs));
  EXPECT_FALSE(torch::equal(a.inputs, c.inputs));
  EXPECT_FALSE(torch::equal(a.inputs, plain.inputs));
  // Augmentation moves pixels, never labels.
  EXPECT_TRUE(torch::equal(a.targets, plain.targets));
}

TEST_F(Cifar10Augment, EachSampleIsACropAndMaybeFlipOfThePaddedImage) {
  // Check against a reference built from torch ops: pad by 4 with black
  // pixels, crop 32x32 at some (dy, dx) in [0, 8]^2, maybe flip, normalise.
  const std::vector<int64_t> indices(40, 4);  // record 1 of file 1, forty times
  const Batch out = sets_.train->batch(indices, 2024);
  const auto padded = torch::constant_pad_nd(reference_image(1, 1), {4, 4, 4, 4}, 0);
  std::set<std::tuple<int, int, bool>> seen;
  for (size_t k = 0; k < indices.size(); ++k) {
    bool found = false;
    for (int dy = 0; dy <= 8 && !found; ++dy) {
      for (int dx = 0; dx <= 8 && !found; ++dx) {
        for (bool flip : {false, true}) {
          auto crop = padded.slice(1, dy, dy + 32).slice(2, dx, dx + 32);
          if (flip) crop = crop.flip({2});
          if (torch::allclose(out.inputs[k], normalise(crop), 1e-5, 1e-5)) {
            seen.insert({dy, dx, flip});
            found = true;
            break;
          }
        }
      }
    }
    EXPECT_TRUE(found) << "sample " << k << " is no crop/flip of the padded image";
  }
  // Forty draws from 162 equally likely choices repeat rarely and flip both ways.
  EXPECT_GT(seen.size(), 20u);
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [](auto& s) { return std::get<2>(s); }));
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [](auto& s) { return !std::get<2>(s); }));
}

TEST_F(Cifar10Augment, TestSetIgnoresSeed) {
  const std::vector<int64_t> indices{0, 1};
  EXPECT_TRUE(
      torch::equal(sets_.test->batch(indices, 42).inputs, sets_.test->batch(indices).inputs));
}

}  // namespace
}  // namespace distsgd::data
