#pragma once
// What a checkpoint holds, in memory: a JSON header and named float vectors.
// The trainer's whole-file checkpoints, every rank's part of a checkpoint in
// parts, and a method's own state inside a part (server shard, push-sum
// weight) are all this one record. Files: train/checkpoint.hpp.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace distsgd {

struct Checkpoint {
  nlohmann::json meta = nlohmann::json::object();
  std::map<std::string, std::vector<float>> tensors;
};

// A written file's size and the CRC-32 stored at its end: what a manifest
// records of each part.
struct CheckpointDigest {
  uint64_t bytes = 0;
  uint32_t crc = 0;
};

}  // namespace distsgd
