#pragma once
// Writes a whole file so that readers see the old content or the new, never a
// mix: temporary file in the same directory, fsync, rename, fsync of the
// directory. Throws RuntimeFailure naming the path on any error.
#include <string>
#include <string_view>

namespace distsgd {

void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace distsgd
