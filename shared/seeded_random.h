// Deterministic randomness that is the same on every machine and standard library:
// std::shuffle and std::uniform_int_distribution are implementation-defined, and a subnet
// trained on another agent must see the same data order as in local mode.
#pragma once

#include <cstdint>
#include <vector>

namespace cloudbook {

class SeededRandom {
 public:
  explicit SeededRandom(uint64_t seed);
  // Combines a seed with a stream id (e.g. subnet index) into an independent seed.
  static uint64_t Derive(uint64_t seed, uint64_t stream);

  uint64_t Next();                 // splitmix64
  uint64_t Below(uint64_t bound);  // uniform in [0, bound), bound > 0, unbiased
  // Fisher-Yates shuffle of `items`.
  void Shuffle(std::vector<int64_t>& items);
  std::vector<int64_t> Permutation(int64_t n);

 private:
  uint64_t state_;
};

}  // namespace cloudbook
