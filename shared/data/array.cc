#include "shared/data/array.h"

#include <algorithm>
#include <cmath>

namespace cloudbook {

int64_t Array::row_size() const {
  int64_t size = 1;
  for (size_t i = 1; i < shape.size(); ++i) size *= shape[i];
  return size;
}

Array Array::SelectRows(const std::vector<int64_t>& rows) const {
  if (shape.empty()) return Array();  // an empty split stays empty
  Array out;
  out.shape = shape;
  out.shape[0] = static_cast<int64_t>(rows.size());
  const int64_t width = row_size();
  out.values.resize(rows.size() * static_cast<size_t>(width));
  for (size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(values.begin() + rows[i] * width, width, out.values.begin() + i * width);
  }
  return out;
}

Array Array::SliceRows(int64_t begin, int64_t end) const {
  if (shape.empty()) return Array();
  begin = std::clamp<int64_t>(begin, 0, rows());
  end = std::clamp<int64_t>(end, begin, rows());
  Array out;
  out.shape = shape;
  out.shape[0] = end - begin;
  const int64_t width = row_size();
  out.values.assign(values.begin() + begin * width, values.begin() + end * width);
  return out;
}

Status CheckReadOptions(const std::string& path, double scale, int64_t limit) {
  if (!(scale > 0) || !std::isfinite(scale)) {
    return Status::InvalidArgument(path + ": scale must be a positive finite number, got " +
                                   std::to_string(scale));
  }
  if (limit < 0) {
    return Status::InvalidArgument(path + ": limit must be >= 0, got " + std::to_string(limit));
  }
  return Status::Ok();
}

}  // namespace cloudbook
