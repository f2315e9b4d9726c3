#pragma once
// The readers under test take a path: each input is written to one file in a
// per-process scratch directory (under $DISTSGD_FUZZ_TMP, else /dev/shm, else
// the system temporary directory), removed when the process exits normally.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "core/errors.hpp"

namespace distsgd::fuzz {

inline std::filesystem::path& scratch_dir() {
  static std::filesystem::path dir;
  return dir;
}

inline void remove_scratch_dir() {
  std::error_code ec;
  if (!scratch_dir().empty()) std::filesystem::remove_all(scratch_dir(), ec);
}

inline const std::filesystem::path& make_scratch_dir() {
  if (scratch_dir().empty()) {
    std::string base;
    if (const char* env = std::getenv("DISTSGD_FUZZ_TMP"); env != nullptr && *env != '\0') {
      base = env;
    } else if (access("/dev/shm", W_OK) == 0) {
      base = "/dev/shm";
    } else {
      base = std::filesystem::temp_directory_path().string();
    }
    std::string name = base + "/distsgd-fuzz-XXXXXX";
    if (mkdtemp(name.data()) == nullptr) {
      std::perror(("fuzz: mkdtemp " + name).c_str());
      std::abort();
    }
    scratch_dir() = name;
    std::atexit(remove_scratch_dir);
  }
  return scratch_dir();
}

// Writes the bytes to `name` in the scratch directory and returns its path.
inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = (make_scratch_dir() / name).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(("fuzz: cannot write " + path).c_str());
    std::abort();
  }
  return path;
}

// Runs `read`: DataError is the expected outcome of a bad file; any other
// exception is a bug, reported as a crash (abort) so that libFuzzer keeps the input.
template <typename Read>
void expect_data_error_only(const char* what, Read&& read) {
  try {
    read();
  } catch (const DataError&) {
  } catch (const std::exception& error) {
    std::fprintf(stderr, "fuzz: %s threw %s, not DataError: %s\n", what, typeid(error).name(),
                 error.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz: %s threw something that is not a std::exception\n", what);
    std::abort();
  }
}

}  // namespace distsgd::fuzz
