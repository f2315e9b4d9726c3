#include "data/idx_dataset.hpp"

#include <filesystem>

#include "core/errors.hpp"
#include "data/idx_reader.hpp"
#include "data/uint8_dataset.hpp"

namespace distsgd::data {

std::string find_idx_file(const std::string& dir, const std::string& base) {
  namespace fs = std::filesystem;
  const fs::path gz = fs::path(dir) / (base + ".gz");
  const fs::path raw = fs::path(dir) / base;
  std::error_code ec;
  if (fs::is_regular_file(gz, ec)) return gz.string();
  if (fs::is_regular_file(raw, ec)) return raw.string();
  if (!fs::is_directory(dir, ec)) throw DataError(dir + ": no such data directory");
  throw DataError(gz.string() + ": no such file (nor " + raw.string() + ")");
}

std::unique_ptr<Dataset> load_idx_part(const std::string& images_path,
                                       const std::string& labels_path,
                                       const Normalization& normalization) {
  constexpr int64_t kClasses = 10;
  IdxImages images = read_idx_images(images_path);
  std::vector<int64_t> labels = read_idx_labels(labels_path, kClasses);
  if (static_cast<int64_t>(labels.size()) != images.count) {
    throw DataError(labels_path + ": holds " + std::to_string(labels.size()) + " labels but " +
                    images_path + " holds " + std::to_string(images.count) + " images");
  }
  Uint8Samples samples;
  samples.shape = SampleShape{1, images.rows, images.cols};
  samples.pixels = std::move(images.pixels);
  samples.labels = std::move(labels);
  return std::make_unique<Uint8Dataset>(std::move(samples),
                                        Uint8DatasetSpec{kClasses, normalization});
}

Datasets load_idx_datasets(const std::string& dir, const Normalization& normalization) {
  // Find all four files before reading any, so a missing one is reported at once.
  const std::string train_images = find_idx_file(dir, "train-images-idx3-ubyte");
  const std::string train_labels = find_idx_file(dir, "train-labels-idx1-ubyte");
  const std::string test_images = find_idx_file(dir, "t10k-images-idx3-ubyte");
  const std::string test_labels = find_idx_file(dir, "t10k-labels-idx1-ubyte");
  Datasets sets;
  sets.train = load_idx_part(train_images, train_labels, normalization);
  sets.test = load_idx_part(test_images, test_labels, normalization);
  if (sets.test->shape().height != sets.train->shape().height ||
      sets.test->shape().width != sets.train->shape().width) {
    throw DataError(dir + ": test images are " + std::to_string(sets.test->shape().height) + "x" +
                    std::to_string(sets.test->shape().width) + " but training images are " +
                    std::to_string(sets.train->shape().height) + "x" +
                    std::to_string(sets.train->shape().width));
  }
  return sets;
}

}  // namespace distsgd::data
