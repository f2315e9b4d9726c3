// load_datasets (declared in dataset.hpp): from a data set's name to its
// readers, default directory and normalisation constants.
#include "core/errors.hpp"
#include "data/cifar10.hpp"
#include "data/dataset.hpp"
#include "data/idx_dataset.hpp"
#include "data/image_folder.hpp"
#include "data/synthetic.hpp"

namespace distsgd::data {
namespace {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Mean and std of x/255 over the training images.
Normalization fashion_mnist_normalization() { return Normalization{{0.2860f}, {0.3530f}}; }
Normalization mnist_normalization() { return Normalization{{0.1307f}, {0.3081f}}; }

std::string require_dir(const DataOptions& options) {
  if (options.dir.empty()) {
    throw ConfigError("data set " + options.name +
                      " has no default directory: give the directory that holds its files");
  }
  return options.dir;
}

}  // namespace

Datasets load_datasets(const DataOptions& options) {
  if (options.name == "fashion-mnist") {
    return load_idx_datasets(options.dir.empty() ? kFashionMnistDir : options.dir,
                             fashion_mnist_normalization());
  }
  if (options.name == "mnist-idx") {
    return load_idx_datasets(require_dir(options), mnist_normalization());
  }
  if (options.name == "cifar10") return load_cifar10(require_dir(options));
  if (options.name == "synthetic") return make_synthetic(options.synthetic_shape, options.seed);
  if (options.name == "image-folder") {
    if (options.bad_images != "error" && options.bad_images != "skip")
      throw ConfigError("--bad-images must be error or skip, not '" + options.bad_images + "'");
    return load_image_folder(options.dir, {options.image_size, options.decode_threads,
                                           options.bad_images == "skip" ? BadImages::skip
                                                                        : BadImages::error});
  }
  throw ConfigError("unknown data set '" + options.name +
                    "' (expected one of: fashion-mnist, mnist-idx, cifar10, synthetic, image-folder)");
}

}  // namespace distsgd::data
