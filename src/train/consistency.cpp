#include "train/consistency.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/crc32.hpp"
#include "core/errors.hpp"

namespace distsgd {

// The version and a CRC-32 of the executable itself: two builds of the same
// version (one node not rebuilt) differ too.
std::string build_identity() {
  std::ifstream file("/proc/self/exe", std::ios::binary);
  uint32_t crc = 0;
  std::vector<char> chunk(1 << 20);
  while (file) {
    file.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    crc = crc32_of({chunk.data(), static_cast<std::size_t>(file.gcount())}, crc);
  }
  return fmt::format("distsgd {} (executable CRC-32 {:08x})", DISTSGD_VERSION_STRING, crc);
}

void check_same_as_rank0(const TrainConfig& config, comm::Communicator& comm) {
  if (comm.size() == 1) return;
  const nlohmann::json own = {{"build", build_identity()}, {"config", config.to_json()}};
  // Rank 0's text, length first; every rank compares it with its own.
  std::string text = comm.rank() == 0 ? own.dump() : std::string();
  uint64_t length = text.size();
  comm.broadcast(&length, sizeof(length), 0, "length of rank 0's configuration");
  text.resize(length);
  comm.broadcast(text.data(), text.size(), 0, "rank 0's configuration");
  if (comm.rank() == 0) return;
  const auto reference = nlohmann::json::parse(text);
  if (reference.at("build") != own.at("build"))
    throw ConfigError(
        fmt::format("rank {} runs {}, rank 0 runs {}: every rank needs the same build", comm.rank(),
                    own.at("build").get<std::string>(), reference.at("build").get<std::string>()));
  const auto& mine = own.at("config");
  const auto& theirs = reference.at("config");
  for (const auto& [key, value] : mine.items()) {
    if (theirs.contains(key) && theirs.at(key) == value) continue;
    std::string flag = key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    throw ConfigError(fmt::format(
        "rank {} was started with --{} {}, rank 0 with --{} {}: every rank needs the same flags",
        comm.rank(), flag, value.dump(), flag,
        theirs.contains(key) ? theirs.at(key).dump() : std::string("(none)")));
  }
}

}  // namespace distsgd
