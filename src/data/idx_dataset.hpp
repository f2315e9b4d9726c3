#pragma once
// An MNIST-style data set directory: the four IDX files, train and test, each
// either gzipped (preferred when both exist) or raw.
#include <memory>
#include <string>

#include "data/dataset.hpp"
#include "data/normalize.hpp"

namespace distsgd::data {

// dir/base.gz if it exists, else dir/base; DataError if neither does.
std::string find_idx_file(const std::string& dir, const std::string& base);

// One part (train or test) from an image file and a label file with the same count.
std::unique_ptr<Dataset> load_idx_part(const std::string& images_path,
                                       const std::string& labels_path,
                                       const Normalization& normalization);

// train-{images-idx3,labels-idx1}-ubyte and t10k-... in dir.
Datasets load_idx_datasets(const std::string& dir, const Normalization& normalization);

}  // namespace distsgd::data
