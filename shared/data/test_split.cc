#include "shared/data/test_split.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "shared/seeded_random.h"

namespace cloudbook {

TestSplitRows SplitOffTest(const std::vector<int64_t>& labels, int64_t rows, double fraction,
                           uint64_t seed) {
  std::map<int64_t, std::vector<int64_t>> groups;  // by label, ascending; one group without
  if (labels.empty()) {
    for (int64_t r = 0; r < rows; ++r) groups[0].push_back(r);
  } else {
    for (size_t r = 0; r < labels.size(); ++r) groups[labels[r]].push_back(static_cast<int64_t>(r));
  }
  SeededRandom random(seed);
  TestSplitRows split;
  for (auto& [label, members] : groups) {
    random.Shuffle(members);
    const auto test_count =
        static_cast<size_t>(std::floor(fraction * static_cast<double>(members.size()) + 0.5));
    split.test.insert(split.test.end(), members.begin(), members.begin() + test_count);
    split.train.insert(split.train.end(), members.begin() + test_count, members.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.test.begin(), split.test.end());
  return split;
}

}  // namespace cloudbook
