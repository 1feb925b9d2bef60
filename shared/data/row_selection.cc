#include "shared/data/row_selection.h"

#include <algorithm>
#include <cctype>
#include <numeric>

#include "shared/data/numpy_random.h"

namespace cloudbook {
namespace {

Result<std::optional<int64_t>> ParseBound(const std::string& text, const std::string& whole) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  if (begin == end) return std::optional<int64_t>();
  const std::string bound = text.substr(begin, end - begin);
  size_t digits = bound[0] == '-' || bound[0] == '+' ? 1 : 0;
  if (digits == bound.size() || bound.size() - digits > 15 ||
      bound.find_first_not_of("0123456789", digits) != std::string::npos) {
    return Status::InvalidArgument("'" + whole + "': '" + bound +
                                   "' is not an integer; expected a Python slice begin:end "
                                   "such as '0:5000', '-10:' or ':100'");
  }
  return std::optional<int64_t>(std::stoll(bound));
}

// Python's slice.indices for step 1: a negative bound counts from the end, then both are
// clamped to [0, rows].
int64_t Clamp(std::optional<int64_t> bound, int64_t rows, int64_t missing) {
  if (!bound) return missing;
  int64_t value = *bound;
  if (value < 0) value += rows;
  return std::clamp<int64_t>(value, 0, rows);
}

}  // namespace

Result<RowSlice> ParseRowSlice(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("'" + text +
                                   "' is not a slice; expected begin:end such as '0:5000', "
                                   "'-10:' or ':100'");
  }
  if (text.find(':', colon + 1) != std::string::npos) {
    return Status::InvalidArgument("'" + text + "' has a step; only begin:end is supported");
  }
  RowSlice slice;
  CB_ASSIGN_OR_RETURN(slice.begin, ParseBound(text.substr(0, colon), text));
  CB_ASSIGN_OR_RETURN(slice.end, ParseBound(text.substr(colon + 1), text));
  return slice;
}

std::string RowSliceText(const RowSlice& slice) {
  return (slice.begin ? std::to_string(*slice.begin) : "") + ":" +
         (slice.end ? std::to_string(*slice.end) : "");
}

Result<std::vector<int64_t>> SliceRowIndices(int64_t rows, const RowSlice& slice,
                                             const std::string& field) {
  const int64_t begin = Clamp(slice.begin, rows, 0);
  const int64_t end = std::max(begin, Clamp(slice.end, rows, rows));
  if (end == begin) {
    return Status::InvalidArgument(field + ": '" + RowSliceText(slice) + "' selects none of the " +
                                   std::to_string(rows) + " rows");
  }
  std::vector<int64_t> indices(static_cast<size_t>(end - begin));
  std::iota(indices.begin(), indices.end(), begin);
  return indices;
}

Result<std::vector<int64_t>> TrainingRowOrder(int64_t rows, const DataSpec& data) {
  std::vector<int64_t> order(static_cast<size_t>(rows));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (data.train_rows) {
    CB_ASSIGN_OR_RETURN(order, SliceRowIndices(rows, *data.train_rows, "data.train_rows"));
  }
  const auto count = static_cast<int64_t>(order.size());
  if (data.shuffle_seed) {
    // x = x[p] with p = RandomState(seed).permutation(len(x)): numpy's shuffle in place.
    const std::vector<int64_t> permutation = NumpyLegacyPermutation(*data.shuffle_seed, count);
    std::vector<int64_t> shuffled(order.size());
    for (size_t i = 0; i < order.size(); ++i) shuffled[i] = order[permutation[i]];
    order = std::move(shuffled);
  }
  if (data.train_subset) {
    const TrainSubset& subset = *data.train_subset;
    if (subset.count > count) {
      return Status::InvalidArgument("data.train_subset: count " + std::to_string(subset.count) +
                                     " is more than the " + std::to_string(count) +
                                     " training rows (drawn without replacement)");
    }
    // numpy/random/mtrand.pyx choice(replace=False, p=None): permutation(pop_size)[:size].
    const std::vector<int64_t> permutation = NumpyLegacyPermutation(subset.seed, count);
    std::vector<int64_t> drawn(static_cast<size_t>(subset.count));
    for (size_t i = 0; i < drawn.size(); ++i) drawn[i] = order[permutation[i]];
    order = std::move(drawn);
  }
  return order;
}

}  // namespace cloudbook
