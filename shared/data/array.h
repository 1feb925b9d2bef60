// A dense row-major array of float values with its shape: what the data readers return and
// what the training code turns into tensors. Row 0 of the shape is the sample axis.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/status.h"

namespace cloudbook {

struct Array {
  std::vector<int64_t> shape;  // shape[0] = number of samples
  std::vector<float> values;   // size = product of shape

  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  // Number of values per sample (product of shape[1..]); 1 for a vector of labels.
  int64_t row_size() const;
  // A copy holding only the given rows, in the given order.
  Array SelectRows(const std::vector<int64_t>& rows) const;
  // A copy of rows [begin, end).
  Array SliceRows(int64_t begin, int64_t end) const;
};

// The options every reader shares: `scale` (values are multiplied by it) must be a positive
// finite number and `limit` (samples read, 0 = all) >= 0; the message names `path`.
Status CheckReadOptions(const std::string& path, double scale, int64_t limit);

}  // namespace cloudbook
