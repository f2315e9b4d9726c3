#include "train/checkpoint.hpp"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/crc32.hpp"
#include "core/errors.hpp"

namespace distsgd {
namespace {

constexpr char kMagic[8] = {'D', 'S', 'G', 'D', 'C', 'K', 'P', 'T'};
constexpr uint32_t kVersion = 1;

template <typename T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

// Reads fields in order from the checkpoint bytes, failing with the file name.
class Reader {
 public:
  Reader(const std::string& path, std::string_view bytes) : path_(path), bytes_(bytes) {}
  template <typename T>
  T take(const char* what) {
    T value;
    std::memcpy(&value, need(sizeof(T), what), sizeof(T));
    return value;
  }
  std::string_view take_bytes(std::size_t count, const char* what) {
    return {need(count, what), count};
  }
  std::size_t left() const { return bytes_.size() - at_; }

 private:
  const char* need(std::size_t count, const char* what) {
    if (count > left())
      throw DataError(
          fmt::format("{}: truncated checkpoint: {} needs {} bytes at offset {}, {} left", path_,
                      what, count, at_, left()));
    const char* here = bytes_.data() + at_;
    at_ += count;
    return here;
  }
  const std::string& path_;
  std::string_view bytes_;
  std::size_t at_ = 0;
};

}  // namespace

CheckpointDigest write_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  std::string out(kMagic, sizeof(kMagic));
  append(out, kVersion);
  const std::string meta = checkpoint.meta.dump();
  append(out, static_cast<uint64_t>(meta.size()));
  out += meta;
  append(out, static_cast<uint32_t>(checkpoint.tensors.size()));
  for (const auto& [name, values] : checkpoint.tensors) {
    append(out, static_cast<uint32_t>(name.size()));
    out += name;
    append(out, static_cast<uint64_t>(values.size()));
    out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  }
  const uint32_t crc = crc32_of(out);
  append(out, crc);
  write_file_atomically(path, out);
  return {out.size(), crc};
}

Checkpoint read_checkpoint(const std::string& path, CheckpointDigest* digest) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw DataError(path + ": cannot open checkpoint: " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << file.rdbuf();
  const std::string bytes = buffer.str();
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    throw DataError(path + ": not a distsgd checkpoint (bad magic number)");
  if (bytes.size() < sizeof(kMagic) + 4 + 4)
    throw DataError(path + ": truncated checkpoint (" + std::to_string(bytes.size()) + " bytes)");
  const std::string_view body(bytes.data(), bytes.size() - 4);
  uint32_t stored_crc;
  std::memcpy(&stored_crc, bytes.data() + body.size(), 4);

  Reader reader(path, body);
  reader.take_bytes(sizeof(kMagic), "magic");
  const auto version = reader.take<uint32_t>("version");
  if (version != kVersion)
    throw DataError(fmt::format("{}: checkpoint format version {} (this build reads {})", path,
                                version, kVersion));
  Checkpoint checkpoint;
  // Parse the structure before checking the CRC, so that a truncated file is
  // reported as truncated rather than as a checksum mismatch.
  const auto meta_size = reader.take<uint64_t>("header length");
  const auto meta_text = reader.take_bytes(meta_size, "JSON header");
  const auto count = reader.take<uint32_t>("tensor count");
  for (uint32_t i = 0; i < count; ++i) {
    const auto name_size = reader.take<uint32_t>("tensor name length");
    const std::string name(reader.take_bytes(name_size, "tensor name"));
    const auto numel = reader.take<uint64_t>("tensor length");
    if (numel > reader.left() / sizeof(float))
      throw DataError(
          fmt::format("{}: truncated checkpoint: tensor {} claims {} floats, {} bytes left", path,
                      name, numel, reader.left()));
    const auto data = reader.take_bytes(numel * sizeof(float), "tensor data");
    std::vector<float> values(numel);
    // An empty vector's data() may be null, and memcpy from or to null is
    // undefined even for 0 bytes (UBSan: nonnull-attribute).
    if (numel > 0) std::memcpy(values.data(), data.data(), data.size());
    checkpoint.tensors.emplace(name, std::move(values));
  }
  if (reader.left() != 0)
    throw DataError(fmt::format("{}: corrupt checkpoint: {} unexpected bytes after the tensors",
                                path, reader.left()));
  if (crc32_of(body) != stored_crc)
    throw DataError(path + ": corrupt checkpoint: CRC-32 does not match its content");
  try {
    checkpoint.meta = nlohmann::json::parse(meta_text);
  } catch (const nlohmann::json::exception& error) {
    throw DataError(path + ": corrupt checkpoint header: " + error.what());
  }
  if (digest) *digest = {bytes.size(), stored_crc};
  return checkpoint;
}

std::string checkpoint_part_path(const std::string& manifest, int rank) {
  const std::string stem =
      manifest.size() > 5 && manifest.compare(manifest.size() - 5, 5, ".ckpt") == 0
          ? manifest.substr(0, manifest.size() - 5)
          : manifest;
  return fmt::format("{}.rank{}.ckpt", stem, rank);
}

bool is_manifest(const Checkpoint& checkpoint) { return checkpoint.meta.contains("parts"); }
bool is_part(const Checkpoint& checkpoint) { return checkpoint.meta.contains("part_of"); }

Checkpoint read_checkpoint_part(const std::string& manifest_path, const Checkpoint& manifest,
                                int rank) {
  namespace fs = std::filesystem;
  const nlohmann::json* entry = nullptr;
  try {
    for (const auto& part : manifest.meta.at("parts")) {
      if (part.at("rank").get<int>() == rank) entry = &part;
    }
  } catch (const nlohmann::json::exception& error) {
    throw DataError(manifest_path + ": corrupt manifest: " + error.what());
  }
  if (!entry)
    throw DataError(fmt::format("{}: the manifest lists no part of rank {}", manifest_path, rank));
  const fs::path directory = fs::path(manifest_path).has_parent_path()
                                 ? fs::path(manifest_path).parent_path()
                                 : fs::path(".");
  std::string path;
  CheckpointDigest digest, expected;
  try {
    path = (directory / entry->at("file").get<std::string>()).string();
    expected = {entry->at("bytes").get<uint64_t>(), entry->at("crc").get<uint32_t>()};
  } catch (const nlohmann::json::exception& error) {
    throw DataError(manifest_path + ": corrupt manifest entry of rank " + std::to_string(rank) +
                    ": " + error.what());
  }
  auto part = read_checkpoint(path, &digest);
  if (digest.bytes != expected.bytes || digest.crc != expected.crc)
    throw DataError(fmt::format(
        "{}: this part ({} bytes, CRC-32 {:08x}) is not the one {} lists ({} bytes, CRC-32 "
        "{:08x}): it was overwritten or belongs to another checkpoint",
        path, digest.bytes, digest.crc, manifest_path, expected.bytes, expected.crc));
  return part;
}

void check_checkpoint_parts(const std::string& manifest_path, const Checkpoint& manifest) {
  if (!is_manifest(manifest)) return;
  for (const auto& part : manifest.meta.at("parts"))
    read_checkpoint_part(manifest_path, manifest, part.at("rank").get<int>());
}

void remove_checkpoint(const std::string& path) {
  std::error_code ignored;
  // The parts are named after the manifest: find them without reading it (it
  // may be damaged), by name, beside it.
  namespace fs = std::filesystem;
  const fs::path manifest(path);
  const fs::path directory = manifest.has_parent_path() ? manifest.parent_path() : fs::path(".");
  const std::string prefix = manifest.stem().string() + ".rank";
  fs::remove(manifest, ignored);
  for (const auto& entry : fs::directory_iterator(directory, ignored)) {
    const auto name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && entry.path().extension() == ".ckpt" &&
        name.find_first_not_of("0123456789", prefix.size()) == name.size() - 5)
      fs::remove(entry.path(), ignored);
  }
}

namespace {

// The newest good checkpoint-*.ckpt of `directory`, other than `except`.
std::optional<std::string> newest_good_checkpoint_besides(const std::filesystem::path& directory,
                                                          const std::filesystem::path& except) {
  namespace fs = std::filesystem;
  std::optional<std::string> best;
  int64_t best_step = -1;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("checkpoint-", 0) != 0 || entry.path().extension() != ".ckpt") continue;
    if (!except.empty() && fs::equivalent(entry.path(), except, error)) continue;
    try {
      const auto candidate = read_checkpoint(entry.path().string());
      if (is_part(candidate)) continue;
      check_checkpoint_parts(entry.path().string(), candidate);
      const auto step = candidate.meta.value("step", int64_t{0});
      if (step > best_step) {
        best_step = step;
        best = entry.path().string();
      }
    } catch (const std::exception&) {
      // damaged: not one to resume from
    }
  }
  return best;
}

}  // namespace

std::optional<std::string> newest_good_checkpoint(const std::string& path) {
  const std::filesystem::path damaged(path);
  return newest_good_checkpoint_besides(
      damaged.has_parent_path() ? damaged.parent_path() : std::filesystem::path("."), damaged);
}

std::optional<std::string> newest_good_checkpoint_in(const std::string& directory) {
  return newest_good_checkpoint_besides(directory, {});
}

}  // namespace distsgd
