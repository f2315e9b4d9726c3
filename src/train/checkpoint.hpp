#pragma once
// Checkpoint files: a JSON header (configuration, position in training,
// versions) and named float vectors (parameters, momentum, buffers), closed by
// a CRC-32 of everything before it, so a truncated or corrupt file is detected.
//
// Written to a temporary file in the same directory, flushed to disk, then
// renamed over the target: a crash while writing never replaces a good file.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace distsgd {

struct Checkpoint {
  nlohmann::json meta = nlohmann::json::object();
  std::map<std::string, std::vector<float>> tensors;
};

void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Throws DataError naming `path` and what is wrong with it.
Checkpoint read_checkpoint(const std::string& path);

// The checkpoint-*.ckpt beside `path` (not `path` itself) that reads without
// error and is furthest in training, to fall back on when `path` is damaged.
std::optional<std::string> newest_good_checkpoint(const std::string& path);

}  // namespace distsgd
