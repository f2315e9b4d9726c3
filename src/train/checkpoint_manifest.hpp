#pragma once
// The manifest of a checkpoint in parts (checkpoint.hpp describes the layout),
// as a pure function of what the ranks wrote: the header lists one entry per
// rank of the job, in rank order, and the position of worker 0 (rank 0, the
// rank that writes the manifest). A rank with no part is an error, so no
// manifest ever lists a partial checkpoint.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/checkpoint_record.hpp"
#include "train/training_position.hpp"

namespace distsgd {

// One rank's part, as the manifest lists it.
struct PartEntry {
  int64_t rank = 0;
  CheckpointDigest digest;
  std::optional<int64_t> step;  // a worker's step; nullopt: a server's part
};

// What every manifest records besides its parts.
struct ManifestHeader {
  nlohmann::json config;      // TrainConfig::to_json()
  TrainingPosition position;  // worker 0's: the manifest's step and epoch
  int nodes = 0;              // ranks of the job: one part each
  int64_t steps_per_epoch = 0;
  nlohmann::json versions;    // runtime_versions()
};

// The manifest `path` of `written` (the parts gathered from the writing ranks)
// and `known` (indexed by rank: the digests of parts servers wrote meanwhile;
// they take the place of a written entry of the same rank). Throws
// RuntimeFailure naming the first rank without a part.
Checkpoint make_manifest(const std::string& path, const std::vector<PartEntry>& written,
                         const std::vector<std::optional<CheckpointDigest>>& known,
                         const ManifestHeader& header);

// A PartEntry as four integers (rank, bytes, CRC, step or -1), the record the
// writing ranks all-gather; and back.
constexpr std::size_t kPartRecord = 4;
std::vector<int64_t> pack_part(const PartEntry& entry);
std::vector<PartEntry> unpack_parts(const std::vector<int64_t>& records);

}  // namespace distsgd
