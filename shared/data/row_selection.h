// Which rows of a split a program uses: data.train_rows / data.test_rows (a Python slice
// without step, clamped as Python clamps), data.shuffle (numpy's RandomState(seed).shuffle)
// and data.train_subset (RandomState(seed).choice(rows, count, replace=False)). The same
// spec gives the same rows on every machine. Pure functions; errors name the data key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook {

// "0:5000", "-10:", ":"; a step, a lone index or anything else is refused.
Result<RowSlice> ParseRowSlice(const std::string& text);
std::string RowSliceText(const RowSlice& slice);

// The rows `slice` selects of `rows`, as Python's x[begin:end] would; refused when none.
Result<std::vector<int64_t>> SliceRowIndices(int64_t rows, const RowSlice& slice,
                                             const std::string& field);

// The training rows, in order, after train_rows, shuffle and train_subset (in that order);
// `rows` is the number read. Identity when the program sets none of them.
Result<std::vector<int64_t>> TrainingRowOrder(int64_t rows, const DataSpec& data);

}  // namespace cloudbook
