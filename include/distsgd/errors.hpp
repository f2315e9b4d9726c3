#pragma once
// The error types of distsgd (part of the library's public contract,
// docs/library.md). Everything that can go wrong is an exception that says what
// failed and why; the CLI's main() catches it once, prints one line and exits
// with exit_code(): 2 for bad input or configuration, 1 for runtime failures.
// A program using the library catches distsgd::Error (a std::runtime_error)
// and gets the same message and code.
#include <stdexcept>
#include <string>

namespace distsgd {

class Error : public std::runtime_error {
 public:
  Error(const std::string& what, int exit_code) : std::runtime_error(what), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

// A flag, a combination of flags, or the number of ranks is not usable.
class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& what) : Error(what, 2) {}
};

// An input file (data set, checkpoint) is missing, truncated or malformed.
// The message names the file and what is wrong with it.
class DataError : public Error {
 public:
  explicit DataError(const std::string& what) : Error(what, 2) {}
};

// Something failed while running: a peer, the network, a NaN loss.
class RuntimeFailure : public Error {
 public:
  explicit RuntimeFailure(const std::string& what) : Error(what, 1) {}
};

}  // namespace distsgd
