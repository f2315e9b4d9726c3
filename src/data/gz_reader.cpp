#include "data/gz_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/errors.hpp"

namespace distsgd::data {

GzReader::GzReader(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) throw DataError(path_ + ": no such file");
  if (std::filesystem::is_directory(path_, ec)) {
    throw DataError(path_ + ": is a directory, not a file");
  }
  errno = 0;
  file_ = gzopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    throw DataError(path_ +
                    ": cannot open: " + (errno != 0 ? std::strerror(errno) : "out of memory"));
  }
  // A larger buffer than zlib's 8 KiB default roughly halves the time to
  // inflate the 26 MB Fashion-MNIST training images.
  gzbuffer(file_, 1 << 20);
}

GzReader::~GzReader() {
  if (file_ != nullptr) gzclose(file_);
}

size_t GzReader::read(void* dst, size_t n) {
  size_t done = 0;
  while (done < n) {
    const auto chunk = static_cast<unsigned>(std::min<size_t>(n - done, size_t{1} << 30));
    const int got = gzread(file_, static_cast<char*>(dst) + done, chunk);
    if (got < 0) {
      int errnum = 0;
      const char* message = gzerror(file_, &errnum);
      throw DataError(path_ +
                      ": cannot read: " + (errnum == Z_ERRNO ? std::strerror(errno) : message));
    }
    if (got == 0) {
      // zlib reports a gzip stream that stops mid-way as a short read with
      // Z_BUF_ERROR, not as a failure; remember it for the caller's message.
      int errnum = 0;
      gzerror(file_, &errnum);
      cut_short_ = errnum == Z_BUF_ERROR;
      break;
    }
    done += static_cast<size_t>(got);
  }
  return done;
}

uint64_t GzReader::skip_rest() {
  std::vector<char> sink(1 << 16);
  uint64_t total = 0;
  for (;;) {
    const size_t got = read(sink.data(), sink.size());
    total += got;
    if (got < sink.size()) return total;
  }
}

}  // namespace distsgd::data
