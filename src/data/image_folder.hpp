#pragma once
// --dataset image-folder: a Dataset over the JPEG and PNG files of an image
// folder (image_folder_scan.hpp), decoded and transformed as each batch is
// gathered, never held in memory.
//
// batch(indices, seed): with a seed, the train transforms (random resized
// crop and flip), each sample's choices drawn from a generator seeded by
// (seed, sample index) alone; without, the val transforms. The samples of a
// batch are decoded on `decode_threads` threads (image_folder.cpp) and the
// result is the same, bit for bit, for any thread count.
// A file that cannot be decoded: BadImages::error throws its DataError (the
// file named); skip takes the next index's file instead (index + 1, + 2, ...
// modulo size(), so the same sample is always replaced by the same one) and
// counts the replacement in Batch::replaced.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/image_folder_scan.hpp"

namespace distsgd::data {

enum class BadImages { error, skip };

struct ImageFolderSpec {
  int64_t image_size = 224;
  int decode_threads = 0;  // 0 or 1: on the calling thread
  BadImages bad_images = BadImages::error;
};

class ImageFolderDataset final : public Dataset {
 public:
  // Throws std::invalid_argument for an empty list or a size < 1 (the
  // scan and the config check both before).
  ImageFolderDataset(ImageList list, ImageFolderSpec spec);

  int64_t size() const override { return static_cast<int64_t>(list_.files.size()); }
  SampleShape shape() const override { return {3, spec_.image_size, spec_.image_size}; }
  int64_t num_classes() const override { return static_cast<int64_t>(list_.classes.size()); }
  // std::out_of_range for an index outside [0, size()). Safe to call from
  // several threads at once.
  Batch batch(std::span<const int64_t> indices,
              std::optional<uint64_t> augment_seed = std::nullopt) const override;
  // From the file list; nothing is decoded.
  std::vector<int64_t> labels() const override { return list_.labels; }

  const ImageList& list() const { return list_; }

 private:
  ImageList list_;
  ImageFolderSpec spec_;
};

// DIR/train and DIR/val as a train and a test set (the val classes checked
// against train's); DataError naming the path for what scan_image_split rejects.
Datasets load_image_folder(const std::string& dir, const ImageFolderSpec& spec);

}  // namespace distsgd::data
