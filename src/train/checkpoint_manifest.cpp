#include "train/checkpoint_manifest.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "core/errors.hpp"
#include "train/checkpoint.hpp"

namespace distsgd {

Checkpoint make_manifest(const std::string& path, const std::vector<PartEntry>& written,
                         const std::vector<std::optional<CheckpointDigest>>& known,
                         const ManifestHeader& header) {
  std::vector<nlohmann::json> parts(static_cast<std::size_t>(header.nodes));
  const auto list = [&](const PartEntry& entry) {
    parts.at(static_cast<std::size_t>(entry.rank)) = {
        {"rank", entry.rank},
        {"file", std::filesystem::path(checkpoint_part_path(path, static_cast<int>(entry.rank)))
                     .filename()
                     .string()},
        {"bytes", static_cast<int64_t>(entry.digest.bytes)},
        {"crc", static_cast<int64_t>(entry.digest.crc)},
        {"role", entry.step ? "worker" : "server"},
        {"step", entry.step ? nlohmann::json(*entry.step) : nlohmann::json(nullptr)}};
  };
  for (const auto& entry : written) list(entry);
  for (std::size_t rank = 0; rank < known.size(); ++rank) {
    if (known[rank]) list({static_cast<int64_t>(rank), *known[rank], std::nullopt});
  }
  for (std::size_t rank = 0; rank < parts.size(); ++rank) {
    if (parts[rank].is_null())
      throw RuntimeFailure(fmt::format("checkpoint {}: rank {} wrote no part", path, rank));
  }
  Checkpoint manifest;
  manifest.meta = {{"config", header.config},
                   {"step", header.position.step},
                   {"epoch", header.position.epoch},
                   {"nodes", header.nodes},
                   {"steps_per_epoch", header.steps_per_epoch},
                   {"parts", parts},
                   {"versions", header.versions}};
  return manifest;
}

std::vector<int64_t> pack_part(const PartEntry& entry) {
  return {entry.rank, static_cast<int64_t>(entry.digest.bytes),
          static_cast<int64_t>(entry.digest.crc), entry.step.value_or(-1)};
}

std::vector<PartEntry> unpack_parts(const std::vector<int64_t>& records) {
  std::vector<PartEntry> entries;
  for (std::size_t i = 0; i + kPartRecord <= records.size(); i += kPartRecord) {
    entries.push_back({records[i],
                       {static_cast<uint64_t>(records[i + 1]), static_cast<uint32_t>(records[i + 2])},
                       records[i + 3] >= 0 ? std::optional(records[i + 3]) : std::nullopt});
  }
  return entries;
}

}  // namespace distsgd
