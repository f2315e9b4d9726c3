#include "models/zip_entries.hpp"

#include <fmt/format.h>

#include <cstdint>

#include "core/crc32.hpp"
#include "core/errors.hpp"

namespace distsgd::models {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr std::size_t kEndSize = 22, kCentralSize = 46, kLocalSize = 30;

// Little-endian fields at checked offsets of the archive.
class Bytes {
 public:
  Bytes(std::string_view bytes, const std::string& what) : bytes_(bytes), what_(what) {}
  std::string_view range(uint64_t at, uint64_t count, const char* field) const {
    if (at > bytes_.size() || count > bytes_.size() - at)
      throw DataError(
          fmt::format("{}: truncated zip archive: {} needs {} bytes at offset {}, the "
                      "file has {}",
                      what_, field, count, at, bytes_.size()));
    return bytes_.substr(at, count);
  }
  uint32_t u32(uint64_t at, const char* field) const { return le(range(at, 4, field)); }
  uint16_t u16(uint64_t at, const char* field) const {
    return static_cast<uint16_t>(le(range(at, 2, field)));
  }

 private:
  static uint32_t le(std::string_view field) {
    uint32_t value = 0;
    for (std::size_t i = field.size(); i-- > 0;)
      value = (value << 8) | static_cast<unsigned char>(field[i]);
    return value;
  }
  std::string_view bytes_;
  const std::string& what_;
};

// The end-of-central-directory record: the last 22 bytes, or earlier when the
// archive has a comment (at most 65535 bytes).
uint64_t find_end_record(const Bytes& in, std::string_view bytes, const std::string& what) {
  if (bytes.size() >= kEndSize) {
    const uint64_t lowest = bytes.size() > kEndSize + 0xFFFF ? bytes.size() - kEndSize - 0xFFFF : 0;
    for (uint64_t at = bytes.size() - kEndSize + 1; at-- > lowest;)
      if (in.u32(at, "end record") == kEndOfDirectory) return at;
  }
  throw DataError(what +
                  ": not a zip archive (no end-of-central-directory record; torch.save "
                  "writes zip files since PyTorch 1.6)");
}

}  // namespace

std::map<std::string, std::string_view> stored_zip_entries(std::string_view bytes,
                                                           const std::string& what) {
  if (bytes.size() < 4 || bytes.substr(0, 4) != std::string_view("PK\x03\x04", 4))
    throw DataError(what +
                    ": not a zip archive (torch.save writes zip files since PyTorch 1.6; "
                    "the older format is not read)");
  const Bytes in(bytes, what);
  const uint64_t end = find_end_record(in, bytes, what);
  const uint16_t count = in.u16(end + 10, "entry count");
  const uint32_t directory_size = in.u32(end + 12, "central directory size");
  const uint32_t directory_at = in.u32(end + 16, "central directory offset");
  if (count == 0xFFFF || directory_size == 0xFFFFFFFF || directory_at == 0xFFFFFFFF)
    throw DataError(what + ": a zip64 archive (over 4 GiB or 65535 entries): not supported");
  in.range(directory_at, directory_size, "central directory");

  std::map<std::string, std::string_view> entries;
  uint64_t at = directory_at;
  for (uint16_t i = 0; i < count; ++i) {
    if (in.u32(at, "central directory entry") != kCentralHeader)
      throw DataError(
          fmt::format("{}: corrupt zip archive: central directory entry {} at offset "
                      "{} has a bad signature",
                      what, i, at));
    const uint16_t flags = in.u16(at + 8, "entry flags");
    const uint16_t method = in.u16(at + 10, "compression method");
    const uint32_t crc = in.u32(at + 16, "entry CRC-32");
    const uint32_t compressed = in.u32(at + 20, "compressed size");
    const uint32_t size = in.u32(at + 24, "entry size");
    const uint16_t name_length = in.u16(at + 28, "name length");
    const uint16_t extra_length = in.u16(at + 30, "extra field length");
    const uint16_t comment_length = in.u16(at + 32, "comment length");
    const uint32_t local_at = in.u32(at + 42, "local header offset");
    const std::string name(in.range(at + kCentralSize, name_length, "entry name"));
    if (flags & 1) throw DataError(what + ": zip entry " + name + " is encrypted");
    if (method != 0 || compressed != size)
      throw DataError(
          fmt::format("{}: zip entry {} is compressed (method {}); torch.save stores "
                      "entries uncompressed",
                      what, name, method));
    if (size == 0xFFFFFFFF || local_at == 0xFFFFFFFF)
      throw DataError(what + ": zip entry " + name + " is a zip64 entry: not supported");
    if (in.u32(local_at, "local header") != kLocalHeader)
      throw DataError(
          fmt::format("{}: corrupt zip archive: the local header of {} (offset {}) "
                      "has a bad signature",
                      what, name, local_at));
    const uint64_t data_at = uint64_t{local_at} + kLocalSize +
                             in.u16(local_at + 26, "name length") +
                             in.u16(local_at + 28, "extra field length");
    const auto content = in.range(data_at, size, "entry data");
    if (crc32_of(content) != crc)
      throw DataError(fmt::format("{}: corrupt zip entry {}: its CRC-32 does not match its content",
                                  what, name));
    if (!entries.emplace(name, content).second)
      throw DataError(what + ": zip archive names the entry " + name + " twice");
    at += kCentralSize + name_length + extra_length + comment_length;
  }
  return entries;
}

}  // namespace distsgd::models
