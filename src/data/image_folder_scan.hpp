#pragma once
// The file list of an image folder in torchvision's ImageFolder convention:
// DIR/<split>/<class>/<file>, classes numbered by sorted folder name, files
// with the extensions .jpg, .jpeg or .png (any case), sorted by name, so the
// list (and the sample indices) is the same on every rank and every run.
#include <cstdint>
#include <string>
#include <vector>

namespace distsgd::data {

struct ImageList {
  std::vector<std::string> classes;  // sorted
  std::vector<std::string> files;    // class by class, each sorted
  std::vector<int64_t> labels;       // index into classes, one per file
};

// The train split: its class folders are the classes. DataError (naming the
// path) for a split folder that is missing or unreadable, no class folder,
// or a class folder without an image.
ImageList scan_image_split(const std::string& split_dir);

// A split whose classes must be among `classes` (val against train): its
// labels are the train numbering; a class folder that is not one of them is a
// DataError naming it. Empty class folders are errors here too.
ImageList scan_image_split(const std::string& split_dir, const std::vector<std::string>& classes);

}  // namespace distsgd::data
