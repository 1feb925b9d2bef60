#include "shared/seeded_random.h"

#include <cstddef>
#include <numeric>
#include <utility>

namespace cloudbook {

SeededRandom::SeededRandom(uint64_t seed) : state_(seed) {}

uint64_t SeededRandom::Derive(uint64_t seed, uint64_t stream) {
  SeededRandom mixer(seed ^ (0x9E3779B97F4A7C15ULL * (stream + 1)));
  return mixer.Next();
}

uint64_t SeededRandom::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t SeededRandom::Below(uint64_t bound) {
  // Rejection sampling removes the modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t value = Next();
  while (value >= limit) value = Next();
  return value % bound;
}

void SeededRandom::Shuffle(std::vector<int64_t>& items) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const std::size_t j = Below(i);
    std::swap(items[i - 1], items[j]);
  }
}

std::vector<int64_t> SeededRandom::Permutation(int64_t n) {
  std::vector<int64_t> items(static_cast<std::size_t>(n));
  std::iota(items.begin(), items.end(), 0);
  Shuffle(items);
  return items;
}

}  // namespace cloudbook
