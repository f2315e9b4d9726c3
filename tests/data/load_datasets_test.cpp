// load_datasets: the dispatch on names, and an mnist-idx directory end to end.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.hpp"
#include "data/dataset.hpp"
#include "data_test_util.hpp"

namespace distsgd::data {
namespace {

using testing::contains;
using testing::idx_images;
using testing::idx_labels;
using testing::message_of;
using testing::TempDir;

TEST(LoadDatasets, UnknownNameListsValidNames) {
  DataOptions options;
  options.name = "imagenet";
  const std::string msg = message_of<ConfigError>([&] { load_datasets(options); });
  for (const char* name : {"'imagenet'", "fashion-mnist", "mnist-idx", "cifar10", "synthetic"}) {
    EXPECT_TRUE(contains(msg, name)) << msg;
  }
}

TEST(LoadDatasets, DirectoryRequiredWhereThereIsNoDefault) {
  for (const char* name : {"mnist-idx", "cifar10"}) {
    DataOptions options;
    options.name = name;
    EXPECT_TRUE(contains(message_of<ConfigError>([&] { load_datasets(options); }), name));
  }
}

TEST(LoadDatasets, MissingDirectoryIsDataError) {
  TempDir dir;
  DataOptions options;
  options.name = "mnist-idx";
  options.dir = dir.file("absent");
  EXPECT_TRUE(contains(message_of<DataError>([&] { load_datasets(options); }), options.dir));
}

TEST(LoadDatasets, SyntheticUsesShapeAndSeed) {
  DataOptions options;
  options.name = "synthetic";
  options.synthetic_shape = "cifar";
  options.seed = 5;
  const Datasets a = load_datasets(options);
  EXPECT_EQ(a.train->shape().width, 32);
  options.seed = 6;
  const Datasets b = load_datasets(options);
  const std::vector<int64_t> idx{0, 1};
  EXPECT_FALSE(torch::equal(a.train->batch(idx).inputs, b.train->batch(idx).inputs));
  options.synthetic_shape = "tiny";
  EXPECT_THROW(load_datasets(options), ConfigError);
}

TEST(LoadDatasets, MnistIdxDirectoryMixingGzipAndRaw) {
  TempDir dir;
  // 3 training images of 2x2 (gzipped), 1 test image (raw).
  testing::write_gz(dir.file("train-images-idx3-ubyte.gz"),
                    idx_images(3, 2, 2, {0, 255, 0, 255, 10, 20, 30, 40, 1, 2, 3, 4}));
  testing::write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx_labels(3, {4, 0, 9}));
  testing::write_raw(dir.file("t10k-images-idx3-ubyte"), idx_images(1, 2, 2, {9, 8, 7, 6}));
  testing::write_raw(dir.file("t10k-labels-idx1-ubyte"), idx_labels(1, {2}));
  // A raw twin with different content must be ignored in favour of the .gz.
  testing::write_raw(dir.file("train-labels-idx1-ubyte"), idx_labels(3, {1, 1, 1}));

  DataOptions options;
  options.name = "mnist-idx";
  options.dir = dir.str();
  const Datasets sets = load_datasets(options);
  EXPECT_EQ(sets.train->size(), 3);
  EXPECT_EQ(sets.test->size(), 1);
  EXPECT_EQ(sets.train->shape().channels, 1);
  EXPECT_EQ(sets.train->shape().height, 2);

  const Batch b = sets.train->batch(std::vector<int64_t>{2, 0});
  EXPECT_TRUE(torch::equal(b.targets, torch::tensor({9, 4}, torch::kInt64)));
  const auto expected =
      (torch::tensor({1.f, 2.f, 3.f, 4.f, 0.f, 255.f, 0.f, 255.f}).reshape({2, 1, 2, 2}) / 255.f -
       0.1307f) /
      0.3081f;
  EXPECT_TRUE(torch::allclose(b.inputs, expected, 1e-5, 1e-5));
  EXPECT_EQ(sets.test->batch(std::vector<int64_t>{0}).targets[0].item<int64_t>(), 2);
}

TEST(LoadDatasets, FashionMnistErrorsNameTheFile) {
  // fashion-mnist with an explicit directory reads that directory.
  TempDir dir;
  testing::write_raw(dir.file("train-images-idx3-ubyte"), idx_images(1, 2, 2, {1, 2, 3}));
  testing::write_raw(dir.file("train-labels-idx1-ubyte"), idx_labels(1, {0}));
  testing::write_raw(dir.file("t10k-images-idx3-ubyte"), idx_images(1, 2, 2, {1, 2, 3, 4}));
  DataOptions options;
  options.dir = dir.str();
  // A missing file is reported before anything is read.
  EXPECT_TRUE(contains(message_of<DataError>([&] { load_datasets(options); }),
                       dir.file("t10k-labels-idx1-ubyte.gz") + ": no such file"));
  testing::write_raw(dir.file("t10k-labels-idx1-ubyte"), idx_labels(1, {0}));
  const std::string msg = message_of<DataError>([&] { load_datasets(options); });
  EXPECT_TRUE(contains(msg, dir.file("train-images-idx3-ubyte") + ": truncated")) << msg;
}

}  // namespace
}  // namespace distsgd::data
