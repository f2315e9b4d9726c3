// scan_image_split (image_folder_scan.hpp).
#include "data/image_folder_scan.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "core/errors.hpp"

namespace distsgd::data {
namespace {

namespace fs = std::filesystem;

bool is_image_name(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// The sorted names of the entries of `dir` that are directories (or not).
std::vector<std::string> sorted_entries(const fs::path& dir, bool directories) {
  std::error_code error;
  fs::directory_iterator it(dir, error);
  if (error) throw DataError(dir.string() + ": cannot be read (" + error.message() + ")");
  std::vector<std::string> names;
  for (const fs::directory_iterator end; it != end; it.increment(error)) {
    if (error) break;
    std::error_code type_error;
    const bool is_dir = it->is_directory(type_error);
    if (is_dir == directories && (directories || is_image_name(it->path())))
      names.push_back(it->path().filename().string());
  }
  if (error) throw DataError(dir.string() + ": cannot be read (" + error.message() + ")");
  std::sort(names.begin(), names.end());
  return names;
}

ImageList scan(const std::string& split_dir, const std::vector<std::string>* known) {
  const fs::path root(split_dir);
  std::error_code error;
  if (!fs::is_directory(root, error))
    throw DataError(split_dir + ": no such folder (an image folder holds train/<class>/ and "
                                "val/<class>/ folders of .jpg, .jpeg or .png files)");
  ImageList list;
  const auto folders = sorted_entries(root, /*directories=*/true);
  if (folders.empty()) throw DataError(split_dir + ": no class folders in it");
  list.classes = known ? *known : folders;
  for (const auto& folder : folders) {
    const auto found = std::lower_bound(list.classes.begin(), list.classes.end(), folder);
    if (found == list.classes.end() || *found != folder)
      throw DataError((root / folder).string() + ": class '" + folder +
                      "' is not one of the training classes");
    const auto label = static_cast<int64_t>(found - list.classes.begin());
    const auto files = sorted_entries(root / folder, /*directories=*/false);
    if (files.empty())
      throw DataError((root / folder).string() + ": an empty class folder (no .jpg, .jpeg or .png file)");
    for (const auto& file : files) {
      list.files.push_back((root / folder / file).string());
      list.labels.push_back(label);
    }
  }
  return list;
}

}  // namespace

ImageList scan_image_split(const std::string& split_dir) { return scan(split_dir, nullptr); }

ImageList scan_image_split(const std::string& split_dir, const std::vector<std::string>& classes) {
  return scan(split_dir, &classes);
}

}  // namespace distsgd::data
