#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/errors.hpp"

namespace distsgd {
namespace {
[[noreturn]] void fail(const std::string& path, const std::string& what, int error) {
  throw RuntimeFailure("cannot write " + path + ": " + what + ": " + std::strerror(error));
}
}  // namespace

void write_file_atomically(const std::string& path, std::string_view content) {
  const std::filesystem::path target(path);
  const auto directory = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "open " + temporary, errno);
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      ::close(fd);
      ::unlink(temporary.c_str());
      fail(path, "write", error);
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  const int synced = ::fsync(fd);
  const int sync_error = errno;
  const int closed = ::close(fd);
  const int close_error = errno;
  if (synced != 0 || closed != 0) {
    ::unlink(temporary.c_str());
    fail(path, synced != 0 ? "fsync" : "close", synced != 0 ? sync_error : close_error);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    fail(path, "rename", error);
  }
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace distsgd
