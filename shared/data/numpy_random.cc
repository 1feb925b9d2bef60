#include "shared/data/numpy_random.h"

#include <numeric>
#include <random>
#include <utility>

namespace cloudbook {

std::vector<int64_t> NumpyLegacyPermutation(uint32_t seed, int64_t n) {
  // numpy/random/_mt19937.pyx _legacy_seeding: mt19937_seed = MT19937 init_genrand(seed),
  // which std::mt19937(seed) also is. numpy/random/mtrand.pyx permutation(int) = shuffle of
  // arange(n); _shuffle_raw: for i in reversed(range(1, n)): j = random_interval(i); swap.
  std::mt19937 generator(seed);
  std::vector<int64_t> items(static_cast<size_t>(n > 0 ? n : 0));
  std::iota(items.begin(), items.end(), int64_t{0});
  for (int64_t i = n - 1; i >= 1; --i) {
    // numpy/random/src/distributions/distributions.c random_interval(max = i): mask = the
    // smallest all-ones value >= max; draw 32 bits & mask until <= max (no modulo).
    auto mask = static_cast<uint32_t>(i);
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    uint32_t value;
    do {
      value = static_cast<uint32_t>(generator()) & mask;
    } while (value > static_cast<uint32_t>(i));
    std::swap(items[static_cast<size_t>(i)], items[value]);
  }
  return items;
}

}  // namespace cloudbook
