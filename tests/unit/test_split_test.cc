// data.test_split: each class gives round(fraction * its count) to the test set, the rows
// drawn by the seed alone (the same on every machine), train and test disjoint and complete.
#include "shared/data/test_split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace cloudbook {
namespace {

std::vector<int64_t> Labels() {  // 4 classes of 1, 7, 30 and 50 samples, interleaved
  std::vector<int64_t> labels;
  for (int i = 0; i < 50; ++i) {
    if (i < 1) labels.push_back(0);
    if (i < 7) labels.push_back(1);
    if (i < 30) labels.push_back(2);
    labels.push_back(3);
  }
  return labels;
}

TEST(SplitOffTest, StratifiedExactlyPerClass) {
  const std::vector<int64_t> labels = Labels();
  for (const double fraction : {0.1, 0.2, 0.25, 0.5}) {
    const TestSplitRows split = SplitOffTest(labels, 0, fraction, 11);
    std::map<int64_t, int64_t> total, test;
    for (const int64_t label : labels) ++total[label];
    for (const int64_t row : split.test) ++test[labels[row]];
    for (const auto& [label, count] : total) {
      EXPECT_EQ(test[label], static_cast<int64_t>(std::floor(fraction * count + 0.5)))
          << "class " << label << " fraction " << fraction;
    }
    std::vector<int64_t> all = split.train;
    all.insert(all.end(), split.test.begin(), split.test.end());
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all.size(), labels.size());
    for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<int64_t>(i));
    EXPECT_TRUE(std::is_sorted(split.test.begin(), split.test.end()));
  }
}

TEST(SplitOffTest, TheSeedAloneDecides) {
  const std::vector<int64_t> labels = Labels();
  const TestSplitRows a = SplitOffTest(labels, 0, 0.2, 5);
  const TestSplitRows b = SplitOffTest(labels, 0, 0.2, 5);
  const TestSplitRows c = SplitOffTest(labels, 0, 0.2, 6);
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.train, b.train);
  EXPECT_NE(a.test, c.test);
  // Pinned: a change of the draw would silently change every program's test set.
  const TestSplitRows small = SplitOffTest({0, 0, 0, 0, 1, 1, 1, 1, 1, 1}, 0, 0.5, 1);
  EXPECT_EQ(small.test.size(), 5u);
}

TEST(SplitOffTest, WithoutLabelsDrawsRows) {
  const TestSplitRows split = SplitOffTest({}, 10, 0.3, 2);
  EXPECT_EQ(split.test.size(), 3u);
  EXPECT_EQ(split.train.size(), 7u);
}

}  // namespace
}  // namespace cloudbook
