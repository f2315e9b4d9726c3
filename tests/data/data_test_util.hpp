#pragma once
// Helpers for the data tests: a scratch directory, writing raw and gzipped
// files, building IDX headers, and checking the message of a thrown error.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace distsgd::data::testing {

using distsgd::testing::TempDir;

using Bytes = std::vector<uint8_t>;

inline void write_raw(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

inline void append_be32(Bytes& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

// An IDX image file: header, then `pixels` as given (which may disagree with
// the header on purpose).
inline Bytes idx_images(uint32_t count, uint32_t rows, uint32_t cols, const Bytes& pixels,
                        uint32_t magic = 0x00000803) {
  Bytes out;
  append_be32(out, magic);
  append_be32(out, count);
  append_be32(out, rows);
  append_be32(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

inline Bytes idx_labels(uint32_t count, const Bytes& labels, uint32_t magic = 0x00000801) {
  Bytes out;
  append_be32(out, magic);
  append_be32(out, count);
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

// Runs f and returns the message of the E it throws; fails the test if it
// throws nothing (or something else, which propagates).
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception, none was thrown";
  return {};
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace distsgd::data::testing
