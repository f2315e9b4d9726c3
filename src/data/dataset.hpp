#pragma once
// A labelled image data set held in memory, and how batches are drawn from it.
//
// Samples are stored compactly (uint8 where the source is uint8) and turned into
// normalised float NCHW tensors batch by batch, so every rank can hold the whole
// training set cheaply and take its own shard of it.
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace distsgd::data {

struct SampleShape {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  int64_t numel() const { return channels * height * width; }
};

struct Batch {
  torch::Tensor inputs;   // float32 [B, C, H, W], normalised
  torch::Tensor targets;  // int64 [B], in [0, num_classes)
  int64_t replaced = 0;   // samples replaced for a file that cannot be decoded (--bad-images skip)
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual SampleShape shape() const = 0;
  virtual int64_t num_classes() const = 0;
  // Gathers the samples at `indices` (each in [0, size())). When `augment_seed`
  // is set and the data set has augmentation (CIFAR-10: random crop with
  // padding 4 and horizontal flip), the random choices come from that seed
  // alone, so a resumed run draws exactly the same batches.
  virtual Batch batch(std::span<const int64_t> indices,
                      std::optional<uint64_t> augment_seed = std::nullopt) const = 0;
  // Every sample's class, in index order. The default draws them from batch()
  // (which may decode every sample); data sets that hold their labels say so.
  virtual std::vector<int64_t> labels() const;
};

struct DataOptions {
  std::string name = "fashion-mnist";  // fashion-mnist | mnist-idx | cifar10 | synthetic | image-folder
  std::string dir;                     // empty: the data set's default directory
  std::string synthetic_shape =
      "cifar";        // cifar (3x32x32, 10 classes) | imagenet (3x224x224, 1000)
  uint64_t seed = 1;  // for synthetic data
  int64_t image_size = 224;       // image-folder: samples are 3 x image_size x image_size
  int decode_threads = 0;         // image-folder: threads decoding one batch
  std::string bad_images = "error";  // image-folder: error | skip (image_folder.hpp)
};

struct Datasets {
  std::unique_ptr<Dataset> train;
  std::unique_ptr<Dataset> test;
};

// Loads and validates a data set's train and test parts. A missing or malformed
// file throws DataError naming the file and what is wrong; an unknown name or
// shape throws ConfigError.
Datasets load_datasets(const DataOptions& options);

// This rank's sample indices for one epoch: a permutation of [0, dataset_size)
// drawn from (seed, epoch), identical on every rank, cut into `world` disjoint
// equal parts (the remainder of dataset_size / world is left out this epoch).
std::vector<int64_t> shard_for_epoch(int64_t dataset_size, int rank, int world, uint64_t seed,
                                     int64_t epoch);

}  // namespace distsgd::data
