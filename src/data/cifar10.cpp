#include "data/cifar10.hpp"

#include <filesystem>
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
  append_cifar10_records(path, into.pixels, into.labels);
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
