#include "core/crc32.hpp"

#include <zlib.h>

#include <algorithm>

namespace distsgd {

uint32_t crc32_of(std::string_view bytes, uint32_t crc) {
  uLong value = crc;
  // zlib takes lengths as uInt: feed large ranges in pieces.
  for (std::size_t at = 0; at < bytes.size(); at += (1u << 30)) {
    const auto piece = std::min<std::size_t>(1u << 30, bytes.size() - at);
    value = crc32(value, reinterpret_cast<const Bytef*>(bytes.data() + at), static_cast<uInt>(piece));
  }
  return static_cast<uint32_t>(value);
}

}  // namespace distsgd
