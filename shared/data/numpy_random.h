// numpy's legacy RandomState(seed).permutation(n), bit for bit, so a program's
// `np.random.seed(s); np.random.shuffle(idx)` or `np.random.choice(n, k, replace=False)` picks
// the same rows here, on every machine: MT19937 output is fixed by the C++ standard (unlike
// std::shuffle and the std distributions), and the draw is numpy's own rejection sampling.
// Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace cloudbook {

// np.random.RandomState(seed).permutation(n) for n < 2^32.
std::vector<int64_t> NumpyLegacyPermutation(uint32_t seed, int64_t n);

}  // namespace cloudbook
