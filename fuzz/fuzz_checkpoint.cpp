// Checkpoint loader (train/checkpoint.hpp). Each input is read twice: once as
// the whole file, and once as the content before the CRC-32, which this target
// appends, correct; without that second read almost every mutation would stop
// at the checksum and the JSON header would never be parsed.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz_file.hpp"
#include "train/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distsgd;
  const std::string path = fuzz::write_input("input.ckpt", data, size);
  fuzz::expect_data_error_only("read_checkpoint", [&] { read_checkpoint(path); });

  std::vector<uint8_t> with_crc(data, data + size);
  const auto crc = static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), data, static_cast<uInt>(size)));
  const auto* crc_bytes = reinterpret_cast<const uint8_t*>(&crc);
  with_crc.insert(with_crc.end(), crc_bytes, crc_bytes + sizeof crc);
  const std::string path2 = fuzz::write_input("with_crc.ckpt", with_crc.data(), with_crc.size());
  fuzz::expect_data_error_only("read_checkpoint (correct CRC)", [&] {
    const Checkpoint checkpoint = read_checkpoint(path2);
    // What was read, written again, reads back the same.
    const std::string path3 = (fuzz::make_scratch_dir() / "rewritten.ckpt").string();
    write_checkpoint(path3, checkpoint);
    const Checkpoint again = read_checkpoint(path3);
    if (again.meta != checkpoint.meta || again.tensors.size() != checkpoint.tensors.size()) {
      std::abort();
    }
    for (const auto& [name, values] : checkpoint.tensors) {
      const auto it = again.tensors.find(name);
      if (it == again.tensors.end() || it->second.size() != values.size() ||
          (!values.empty() &&
           std::memcmp(it->second.data(), values.data(), values.size() * sizeof(float)) != 0)) {
        std::abort();
      }
    }
  });
  return 0;
}
