#pragma once
// A file read through zlib, which passes raw files through and inflates gzipped
// ones, so callers never ask which kind they have. Errors name the file.
#include <cstddef>
#include <cstdint>
#include <string>

struct gzFile_s;  // zlib's gzFile, kept out of this header

namespace distsgd::data {

class GzReader {
 public:
  // Throws DataError if the file does not exist or cannot be opened.
  explicit GzReader(std::string path);
  ~GzReader();
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to n bytes into dst; fewer only at the end of the data.
  size_t read(void* dst, size_t n);
  // Reads to the end and returns how many bytes were left.
  uint64_t skip_rest();
  // Whether the end of the data was a gzip stream cut short (a truncated .gz).
  bool cut_short() const { return cut_short_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  gzFile_s* file_ = nullptr;
  bool cut_short_ = false;
};

}  // namespace distsgd::data
