// `data.test_split: {fraction, seed}`: a seeded test set cut from the training source when
// the program has no test split. Stratified: each class gives round(fraction * its samples)
// (halves up) to the test set, drawn by a seeded shuffle that is the same on every machine
// (shared/seeded_random.h); without labels (regression) round(fraction * rows) rows are drawn.
// Thread safety: pure functions. Errors: none here (the caller checks for empty sides).
#pragma once

#include <cstdint>
#include <vector>

namespace cloudbook {

struct TestSplitRows {
  std::vector<int64_t> train;  // ascending
  std::vector<int64_t> test;   // ascending
};

// `labels` per row (classification), or empty with `rows` rows (regression).
TestSplitRows SplitOffTest(const std::vector<int64_t>& labels, int64_t rows, double fraction,
                           uint64_t seed);

}  // namespace cloudbook
