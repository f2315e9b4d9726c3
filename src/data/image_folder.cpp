// ImageFolderDataset (image_folder.hpp): each sample of a batch is read,
// decoded and transformed on its own, in parallel, into its slot of the
// batch tensor.
#include "data/image_folder.hpp"

#include <torch/torch.h>

#include <exception>
#include <stdexcept>

#include "core/errors.hpp"
#include "core/random.hpp"
#include "data/image_decode.hpp"
#include "data/image_transforms.hpp"
#include "data/parallel_for.hpp"

namespace distsgd::data {

ImageFolderDataset::ImageFolderDataset(ImageList list, ImageFolderSpec spec)
    : list_(std::move(list)), spec_(spec) {
  if (list_.files.empty() || list_.files.size() != list_.labels.size())
    throw std::invalid_argument("ImageFolderDataset: an empty or inconsistent file list");
  if (spec_.image_size < 1) throw std::invalid_argument("ImageFolderDataset: image size < 1");
}

Batch ImageFolderDataset::batch(std::span<const int64_t> indices,
                                std::optional<uint64_t> augment_seed) const {
  const auto n = static_cast<int64_t>(indices.size());
  const int64_t size = spec_.image_size;
  for (const int64_t index : indices)
    if (index < 0 || index >= this->size())
      throw std::out_of_range("image folder: sample index " + std::to_string(index) +
                              " outside [0, " + std::to_string(this->size()) + ")");
  Batch batch{torch::empty({n, 3, size, size}, torch::kFloat32),
              torch::empty({n}, torch::kInt64)};
  float* inputs = batch.inputs.data_ptr<float>();
  int64_t* targets = batch.targets.data_ptr<int64_t>();
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
  std::vector<int64_t> replaced(static_cast<std::size_t>(n), 0);
  parallel_for(n, spec_.decode_threads, [&](int64_t k) {
    const int64_t index = indices[static_cast<std::size_t>(k)];
    float* dst = inputs + k * 3 * size * size;
    try {
      for (int64_t attempt = 0;; ++attempt) {
        const int64_t file = (index + attempt) % this->size();
        try {
          const auto image = read_image_file(list_.files[static_cast<std::size_t>(file)]);
          if (augment_seed) {
            // The sample's own generator: its crop does not depend on which
            // thread decodes it or on the other samples of the batch.
            SplitMix64 rng(mix64(*augment_seed ^ mix64(static_cast<uint64_t>(index))));
            write_resized_crop(image, draw_random_resized_crop(image.height, image.width, rng),
                               size, dst);
          } else {
            write_val_crop(image, size, dst);
          }
          targets[k] = list_.labels[static_cast<std::size_t>(file)];
          replaced[static_cast<std::size_t>(k)] = attempt;
          break;
        } catch (const DataError&) {
          if (spec_.bad_images == BadImages::error || attempt + 1 >= this->size()) throw;
        }
      }
    } catch (...) {
      errors[static_cast<std::size_t>(k)] = std::current_exception();
    }
  });
  // The first failing sample of the batch, whatever thread saw it first.
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
  for (const int64_t r : replaced) batch.replaced += r > 0 ? 1 : 0;
  return batch;
}

Datasets load_image_folder(const std::string& dir, const ImageFolderSpec& spec) {
  if (dir.empty())
    throw ConfigError("--dataset image-folder needs --data-dir DIR (DIR/train/<class>/ and DIR/val/<class>/)");
  auto train = scan_image_split(dir + "/train");
  auto val = scan_image_split(dir + "/val", train.classes);
  Datasets sets;
  sets.train = std::make_unique<ImageFolderDataset>(std::move(train), spec);
  sets.test = std::make_unique<ImageFolderDataset>(std::move(val), spec);
  return sets;
}

}  // namespace distsgd::data
