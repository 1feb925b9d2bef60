#include "shared/data/sample_split.h"

#include <algorithm>
#include <map>

#include "shared/seeded_random.h"

namespace cloudbook {

std::pair<std::vector<int64_t>, std::vector<int64_t>> StratifiedHalves(
    const std::vector<int64_t>& labels, uint64_t seed) {
  std::map<int64_t, std::vector<int64_t>> by_label;
  for (size_t i = 0; i < labels.size(); ++i) by_label[labels[i]].push_back(static_cast<int64_t>(i));
  SeededRandom random(seed);
  std::vector<int64_t> first, second;
  bool extra_to_first = true;
  for (auto& [label, indices] : by_label) {
    random.Shuffle(indices);
    size_t first_count = indices.size() / 2;
    if (indices.size() % 2 == 1) {
      if (extra_to_first) ++first_count;
      extra_to_first = !extra_to_first;
    }
    first.insert(first.end(), indices.begin(), indices.begin() + static_cast<long>(first_count));
    second.insert(second.end(), indices.begin() + static_cast<long>(first_count), indices.end());
  }
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  return {std::move(first), std::move(second)};
}

}  // namespace cloudbook
