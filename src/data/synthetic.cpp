#include "data/synthetic.hpp"

#include <cstring>

#include "core/errors.hpp"
#include "core/random.hpp"
#include "data/uint8_dataset.hpp"

namespace distsgd::data {
namespace {

struct SyntheticShape {
  SampleShape sample;
  int64_t num_classes;
  int64_t train_size;
  int64_t test_size;
  int64_t pool;
};

// Pixels are uniform bytes: mean 1/2 and std 1/sqrt(12) of x/255 make the
// normalised inputs zero-mean with unit variance, like real normalised data.
Normalization uniform_normalization(int64_t channels) {
  return Normalization{std::vector<float>(channels, 0.5f), std::vector<float>(channels, 0.288675f)};
}

std::unique_ptr<Dataset> make_part(const SyntheticShape& shape, int64_t size, uint64_t seed) {
  SplitMix64 rng(seed);
  Uint8Samples samples;
  samples.shape = shape.sample;
  samples.pixels.resize(static_cast<size_t>(shape.pool * shape.sample.numel()));
  // Eight pixels per draw; the byte order of the copy is the host's, which is
  // little-endian everywhere this runs.
  size_t i = 0;
  for (; i + 8 <= samples.pixels.size(); i += 8) {
    const uint64_t r = rng.next();
    std::memcpy(samples.pixels.data() + i, &r, 8);
  }
  for (; i < samples.pixels.size(); ++i) samples.pixels[i] = static_cast<uint8_t>(rng.next());
  samples.labels.resize(static_cast<size_t>(shape.pool));
  for (auto& label : samples.labels) {
    label = static_cast<int64_t>(rng.below(static_cast<uint64_t>(shape.num_classes)));
  }
  Uint8DatasetSpec spec{shape.num_classes, uniform_normalization(shape.sample.channels)};
  spec.virtual_size = size;
  return std::make_unique<Uint8Dataset>(std::move(samples), std::move(spec));
}

}  // namespace

Datasets make_synthetic(const std::string& shape_name, uint64_t seed) {
  SyntheticShape shape;
  if (shape_name == "cifar") {
    shape = {{3, 32, 32}, 10, 50000, 10000, 1024};
  } else if (shape_name == "imagenet") {
    shape = {{3, 224, 224}, 1000, 1281167, 50000, 256};
  } else {
    throw ConfigError("unknown synthetic shape '" + shape_name +
                      "' (expected one of: cifar, imagenet)");
  }
  // Distinct streams for the two parts, so the test pool is not the training pool.
  Datasets sets;
  sets.train = make_part(shape, shape.train_size, mix64(seed) ^ 0x747261696eULL);  // "train"
  sets.test = make_part(shape, shape.test_size, mix64(seed) ^ 0x74657374ULL);      // "test"
  return sets;
}

}  // namespace distsgd::data
