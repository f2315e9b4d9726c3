#pragma once
// A small portable random number generator for everything that must
// be reproducible: shuffles, augmentation, synthetic data.
//
// std::shuffle and std::uniform_int_distribution are implementation-defined, so
// two ranks built with different standard libraries could disagree on a shard.
// SplitMix64 plus a rejection-sampled bounded integer gives the same numbers
// everywhere.
#include <cstdint>

namespace distsgd {

// The SplitMix64 finaliser: a bijective mix of 64 bits, used to turn structured
// seeds (seed, epoch) into well-spread generator states.
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }

  // Uniform in [0, bound), bound >= 1. Rejects the low 2^64 mod bound values so
  // that the modulo is unbiased.
  uint64_t below(uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      const uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

  bool coin() { return (next() >> 63) != 0; }

 private:
  uint64_t state_;
};

}  // namespace distsgd
