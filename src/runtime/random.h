// Deterministic pseudo-random numbers: xoshiro256** seeded through splitmix64, and fixed
// formulas to derive bounded values. Standard-library distributions are deliberately not used:
// their output differs between library implementations, which would break seed replay.
// Not thread-safe; each owner (a runtime, the simulator) holds its own generator.
#pragma once

#include <cstdint>

namespace samsa {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Prng {
 public:
  explicit Prng(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64(sm);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Digest of the whole state: FoundationDB-style end-of-run check that two runs consumed the
  // same amount of randomness.
  uint64_t state_digest() const { return s_[0] ^ rotl(s_[1], 13) ^ rotl(s_[2], 29) ^ rotl(s_[3], 47); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Value in [0, bound) by multiply-shift (Lemire); the tiny bias is irrelevant for testing and
// the formula is fixed, so results are identical everywhere.
inline uint64_t bounded(uint64_t random_bits, uint64_t bound) {
  if (bound == 0) return 0;
  __extension__ using u128 = unsigned __int128;  // GCC/Clang extension; -Wpedantic-clean
  return static_cast<uint64_t>((static_cast<u128>(random_bits) * bound) >> 64);
}

// Value in [lo, hi] inclusive.
inline int64_t in_range(uint64_t random_bits, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(bounded(random_bits, static_cast<uint64_t>(hi - lo) + 1));
}

// True with probability numerator/denominator.
inline bool chance(uint64_t random_bits, uint64_t numerator, uint64_t denominator) {
  return bounded(random_bits, denominator) < numerator;
}

}  // namespace samsa
