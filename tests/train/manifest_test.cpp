// The manifest of a checkpoint in parts as a pure function: one entry per
// rank in rank order whatever order the parts were gathered in, servers'
// known digests filling their ranks, a missing rank an error naming it, and
// the header fields of worker 0's position.
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "train/checkpoint.hpp"
#include "train/checkpoint_manifest.hpp"

namespace distsgd {
namespace {

ManifestHeader header(int nodes) {
  ManifestHeader h;
  h.config = {{"algo", "asgd"}};
  h.position.step = 120;
  h.position.epoch = 3;
  h.position.samples = 7680;
  h.nodes = nodes;
  h.steps_per_epoch = 40;
  h.versions = {{"distsgd", "test"}};
  return h;
}

PartEntry worker(int64_t rank, int64_t step) {
  return {rank, {static_cast<uint64_t>(1000 + rank), static_cast<uint32_t>(0xabc0 + rank)}, step};
}

const std::string kPath = "/runs/x/checkpoint-epoch3.ckpt";

TEST(Manifest, EntriesInRankOrder) {
  const auto manifest =
      make_manifest(kPath, {worker(2, 118), worker(0, 120), worker(1, 119)}, {}, header(3));
  EXPECT_TRUE(is_manifest(manifest));
  const auto& parts = manifest.meta.at("parts");
  ASSERT_EQ(parts.size(), 3u);
  for (int rank = 0; rank < 3; ++rank) {
    EXPECT_EQ(parts[rank].at("rank"), rank);
    EXPECT_EQ(parts[rank].at("file"), "checkpoint-epoch3.rank" + std::to_string(rank) + ".ckpt");
    EXPECT_EQ(parts[rank].at("bytes"), 1000 + rank);
    EXPECT_EQ(parts[rank].at("crc"), 0xabc0 + rank);
    EXPECT_EQ(parts[rank].at("role"), "worker");
    EXPECT_EQ(parts[rank].at("step"), 120 - rank);
  }
}

TEST(Manifest, HeaderFields) {
  const auto manifest = make_manifest(kPath, {worker(0, 120)}, {}, header(1));
  const auto& meta = manifest.meta;
  EXPECT_EQ(meta.at("step"), 120);
  EXPECT_EQ(meta.at("epoch"), 3);
  EXPECT_EQ(meta.at("nodes"), 1);
  EXPECT_EQ(meta.at("steps_per_epoch"), 40);
  EXPECT_EQ(meta.at("config").at("algo"), "asgd");
  EXPECT_EQ(meta.at("versions").at("distsgd"), "test");
  // The header lists parts; the position's other figures are in the parts.
  EXPECT_FALSE(meta.contains("samples"));
  EXPECT_TRUE(manifest.tensors.empty());
}

TEST(Manifest, ServersKnownDigestsFillTheirRanks) {
  // Workers 0 and 1 gathered; server 2 wrote its part meanwhile.
  std::vector<std::optional<CheckpointDigest>> known(3);
  known[2] = CheckpointDigest{5000, 0xfeed};
  const auto manifest = make_manifest(kPath, {worker(0, 120), worker(1, 120)}, known, header(3));
  const auto& server = manifest.meta.at("parts")[2];
  EXPECT_EQ(server.at("rank"), 2);
  EXPECT_EQ(server.at("role"), "server");
  EXPECT_TRUE(server.at("step").is_null());
  EXPECT_EQ(server.at("bytes"), 5000);
  EXPECT_EQ(server.at("crc"), 0xfeed);
  EXPECT_EQ(manifest.meta.at("parts")[1].at("role"), "worker");
}

TEST(Manifest, AServerPartGatheredWithTheOthers) {
  // After a stop every rank writes and gathers, servers too (no step).
  const PartEntry server{2, {64, 7}, std::nullopt};
  const auto manifest =
      make_manifest(kPath, {worker(0, 120), worker(1, 117), server}, {}, header(3));
  EXPECT_EQ(manifest.meta.at("parts")[2].at("role"), "server");
  EXPECT_TRUE(manifest.meta.at("parts")[2].at("step").is_null());
}

TEST(Manifest, AMissingRankThrowsNamingIt) {
  try {
    make_manifest(kPath, {worker(0, 120), worker(2, 120)}, {}, header(3));
    FAIL() << "no error";
  } catch (const RuntimeFailure& error) {
    EXPECT_EQ(std::string(error.what()), "checkpoint " + kPath + ": rank 1 wrote no part");
  }
}

TEST(Manifest, PackedPartsRoundTrip) {
  const std::vector<PartEntry> entries = {worker(0, 120), {1, {99, 0xffffffffu}, std::nullopt},
                                          worker(2, 0)};
  std::vector<int64_t> records;
  for (const auto& entry : entries) {
    const auto packed = pack_part(entry);
    ASSERT_EQ(packed.size(), kPartRecord);
    records.insert(records.end(), packed.begin(), packed.end());
  }
  const auto unpacked = unpack_parts(records);
  ASSERT_EQ(unpacked.size(), entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(unpacked[i].rank, entries[i].rank);
    EXPECT_EQ(unpacked[i].digest.bytes, entries[i].digest.bytes);
    EXPECT_EQ(unpacked[i].digest.crc, entries[i].digest.crc);
    EXPECT_EQ(unpacked[i].step, entries[i].step);
  }
}

}  // namespace
}  // namespace distsgd
