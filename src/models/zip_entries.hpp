#pragma once
// The entries of a zip archive held in memory, as PyTorch's torch.save writes
// them (its format since 1.6): every entry stored uncompressed, so each is a
// view into the file's bytes. The file is untrusted: every offset and length
// is checked against the buffer, and each entry's CRC-32 against its content.
// No LibTorch (the fuzzer builds it alone).
#include <map>
#include <string>
#include <string_view>

namespace distsgd::models {

// Name -> content of every entry of the archive `bytes` (views into `bytes`).
// Throws DataError starting with `what` (the file's name) when `bytes` is not
// a zip archive, is truncated, has a compressed, encrypted or zip64 entry, a
// name twice, or an entry whose CRC-32 does not match.
std::map<std::string, std::string_view> stored_zip_entries(std::string_view bytes,
                                                           const std::string& what);

}  // namespace distsgd::models
