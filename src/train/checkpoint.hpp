#pragma once
// Checkpoint files: a JSON header (configuration, position in training,
// versions) and named float vectors (parameters, momentum, buffers), closed by
// a CRC-32 of everything before it, so a truncated or corrupt file is detected.
//
// Written to a temporary file in the same directory, flushed to disk, then
// renamed over the target: a crash while writing never replaces a good file.
//
// Two layouts:
//   - one file (synchronous methods: every replica is the same): rank 0 writes
//     checkpoint-epochN.ckpt with the replica, its momentum and the position;
//   - in parts (asynchronous methods: every rank's state differs): every rank
//     writes its part checkpoint-epochN.rankR.ckpt, then rank 0 writes the
//     manifest checkpoint-epochN.ckpt, whose header lists the parts ("parts":
//     [{"rank", "file", "bytes", "crc", "step", "role"}], the file name relative to
//     the manifest's directory). The manifest is written last, so it exists only
//     once all its parts do; a part that does not match its entry (size, CRC) is
//     from another checkpoint or damaged. The directory is shared by all ranks.
#include <optional>
#include <string>

#include "core/checkpoint_record.hpp"

namespace distsgd {

CheckpointDigest write_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Throws DataError naming `path` and what is wrong with it. `digest`, when
// given, receives the file's size and stored CRC.
Checkpoint read_checkpoint(const std::string& path, CheckpointDigest* digest = nullptr);

// ------------------------------------------------------- checkpoints in parts
// The part of `rank` beside the manifest `manifest`: checkpoint-epoch3.ckpt ->
// checkpoint-epoch3.rank2.ckpt.
std::string checkpoint_part_path(const std::string& manifest, int rank);
// Whether `checkpoint` is a manifest (its parts hold the state).
bool is_manifest(const Checkpoint& checkpoint);
// Whether `checkpoint` is the part of a manifest (not a checkpoint to resume).
bool is_part(const Checkpoint& checkpoint);
// Reads the part of `rank` that `manifest` (read from `manifest_path`) lists
// and checks it against the manifest's entry. Throws DataError naming the part.
Checkpoint read_checkpoint_part(const std::string& manifest_path, const Checkpoint& manifest,
                                int rank);
// Reads the manifest and every part it lists: DataError naming the first bad file.
void check_checkpoint_parts(const std::string& manifest_path, const Checkpoint& manifest);
// Removes a checkpoint: the manifest first (so no manifest outlives a part),
// then its parts, if it has any. Missing files are ignored.
void remove_checkpoint(const std::string& path);

// The checkpoint-*.ckpt beside `path` (not `path` itself, nor parts) that reads
// without error (a manifest: with all its parts) and is furthest in training,
// to fall back on when `path` is damaged.
std::optional<std::string> newest_good_checkpoint(const std::string& path);
// The checkpoint-*.ckpt in `directory` that reads without error and is
// furthest in training; nullopt when there is none (or no such directory).
std::optional<std::string> newest_good_checkpoint_in(const std::string& directory);

}  // namespace distsgd
