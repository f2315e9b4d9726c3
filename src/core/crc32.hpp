#pragma once
// CRC-32 (zlib's, the one zip archives and our checkpoint files store) of a
// byte range of any length. `crc` continues a running value over pieces.
#include <cstdint>
#include <string_view>

namespace distsgd {

uint32_t crc32_of(std::string_view bytes, uint32_t crc = 0);

}  // namespace distsgd
