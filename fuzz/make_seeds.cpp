// Writes the seed corpus of the fuzz targets: small valid files of each format
// and a few broken ones, deterministic (same bytes on every run).
//   build-fuzz/make_seeds fuzz/corpus
// Every valid seed is read back with the reader under test before it is kept.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "data/cifar10_records.hpp"
#include "data/idx_reader.hpp"
#include "train/checkpoint.hpp"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

void write_raw(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

Bytes gzip(const Bytes& bytes) {
  // A gzip stream with mtime 0, so the seed is the same on every run.
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  Bytes out(deflateBound(&z, bytes.size()) + 32);
  z.next_in = const_cast<Bytef*>(bytes.data());
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Bytes read_raw(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void be32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

Bytes idx_images(uint32_t count, uint32_t rows, uint32_t cols, size_t pixels, uint32_t magic = 0x803) {
  Bytes out;
  be32(out, magic);
  be32(out, count);
  be32(out, rows);
  be32(out, cols);
  for (size_t i = 0; i < pixels; ++i) out.push_back(static_cast<uint8_t>(i * 37 % 256));
  return out;
}

Bytes idx_labels(uint32_t count, const Bytes& labels, uint32_t magic = 0x801) {
  Bytes out;
  be32(out, magic);
  be32(out, count);
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

Bytes cifar(const Bytes& labels) {
  Bytes out;
  for (size_t r = 0; r < labels.size(); ++r) {
    out.push_back(labels[r]);
    for (int i = 0; i < 3072; ++i) out.push_back(static_cast<uint8_t>((i + 11 * r) % 256));
  }
  return out;
}

template <typename Read>
void expect_valid(const fs::path& path, Read&& read) {
  read(path.string());  // throws if not
}

template <typename Read>
void expect_broken(const fs::path& path, Read&& read) {
  try {
    read(path.string());
  } catch (const distsgd::DataError&) {
    return;
  }
  throw std::runtime_error(path.string() + ": meant to be broken, but reads");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (writes CORPUS_DIR/{idx,cifar10,checkpoint}/)\n",
                 argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  try {
    const auto images = [](const std::string& p) { distsgd::data::read_idx_images(p); };
    const auto labels = [](const std::string& p) { distsgd::data::read_idx_labels(p, 10); };
    const fs::path idx = root / "idx";
    fs::create_directories(idx);
    const Bytes good_images = idx_images(3, 4, 5, 60);
    const Bytes good_labels = idx_labels(6, {0, 9, 3, 3, 1, 7});
    write_raw(idx / "images.idx", good_images);
    write_raw(idx / "images.idx.gz", gzip(good_images));
    write_raw(idx / "labels.idx", good_labels);
    write_raw(idx / "labels.idx.gz", gzip(good_labels));
    expect_valid(idx / "images.idx", images);
    expect_valid(idx / "images.idx.gz", images);
    expect_valid(idx / "labels.idx", labels);
    expect_valid(idx / "labels.idx.gz", labels);
    write_raw(idx / "broken-images-truncated.idx", idx_images(3, 4, 5, 50));
    write_raw(idx / "broken-images-trailing.idx", idx_images(3, 4, 5, 61));
    write_raw(idx / "broken-images-huge-count.idx", idx_images(0xffffffff, 28, 28, 4));
    write_raw(idx / "broken-labels-out-of-range.idx", idx_labels(3, {1, 10, 2}));
    write_raw(idx / "broken-labels-bad-magic.idx", idx_labels(2, {1, 2}, 0x803));
    Bytes cut = gzip(idx_images(20, 8, 8, 1280));
    cut.resize(cut.size() / 2);
    write_raw(idx / "broken-images-cut.idx.gz", cut);
    expect_broken(idx / "broken-images-truncated.idx", images);
    expect_broken(idx / "broken-images-trailing.idx", images);
    expect_broken(idx / "broken-images-huge-count.idx", images);
    expect_broken(idx / "broken-labels-out-of-range.idx", labels);
    expect_broken(idx / "broken-labels-bad-magic.idx", labels);
    expect_broken(idx / "broken-images-cut.idx.gz", images);

    const auto records = [](const std::string& p) {
      std::vector<uint8_t> pixels;
      std::vector<int64_t> labels;
      distsgd::data::append_cifar10_records(p, pixels, labels);
    };
    const fs::path cifar10 = root / "cifar10";
    fs::create_directories(cifar10);
    write_raw(cifar10 / "one-record.bin", cifar({4}));
    write_raw(cifar10 / "three-records.bin", cifar({0, 9, 5}));
    expect_valid(cifar10 / "one-record.bin", records);
    expect_valid(cifar10 / "three-records.bin", records);
    Bytes bad_label = cifar({2, 10});
    write_raw(cifar10 / "broken-label.bin", bad_label);
    Bytes short_file = cifar({1});
    short_file.pop_back();
    write_raw(cifar10 / "broken-short.bin", short_file);
    expect_broken(cifar10 / "broken-label.bin", records);
    expect_broken(cifar10 / "broken-short.bin", records);

    const auto checkpoint = [](const std::string& p) { distsgd::read_checkpoint(p); };
    const fs::path ckpt = root / "checkpoint";
    fs::create_directories(ckpt);
    distsgd::Checkpoint state;
    state.meta = {{"config", {{"algo", "allreduce"}, {"model", "mlp"}, {"lr", 0.05}}},
                  {"step", 120},
                  {"epoch", 2},
                  {"train_time_s", 1.5},
                  {"time_to_target_s", nullptr},
                  {"nodes", 2},
                  {"versions", {{"distsgd", "0.1.0"}}}};
    state.tensors["params"] = {1.0f, -2.5f, 0.125f, 3.0f, 1e-3f};
    state.tensors["momentum"] = {0.0f, 0.5f, -0.25f, 0.0f, 2.0f};
    state.tensors["buffers"] = {};
    distsgd::write_checkpoint((ckpt / "valid.ckpt").string(), state);
    expect_valid(ckpt / "valid.ckpt", checkpoint);
    // The fuzz target appends a correct CRC-32 to each input and reads it
    // again: this seed is the valid checkpoint without its CRC.
    Bytes body = read_raw(ckpt / "valid.ckpt");
    body.resize(body.size() - 4);
    write_raw(ckpt / "valid-without-crc.ckpt", body);
    distsgd::Checkpoint empty;
    distsgd::write_checkpoint((ckpt / "empty.ckpt").string(), empty);
    expect_valid(ckpt / "empty.ckpt", checkpoint);
    Bytes truncated = read_raw(ckpt / "valid.ckpt");
    truncated.resize(truncated.size() - 11);
    write_raw(ckpt / "broken-truncated.ckpt", truncated);
    Bytes flipped = read_raw(ckpt / "valid.ckpt");
    flipped[flipped.size() / 2] ^= 0x40;
    write_raw(ckpt / "broken-crc.ckpt", flipped);
    expect_broken(ckpt / "broken-truncated.ckpt", checkpoint);
    expect_broken(ckpt / "broken-crc.ckpt", checkpoint);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "make_seeds: %s\n", error.what());
    return 1;
  }
  return 0;
}
