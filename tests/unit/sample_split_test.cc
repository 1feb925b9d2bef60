// StratifiedHalves: how the binary deconstruction splits the training samples between its
// two subnets. A seeded, label-stratified shuffle, so that sorted data still gives both
// subnets both labels (the original split by position and broke on sorted data).
#include "shared/data/sample_split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <vector>

#include "shared/seeded_random.h"

namespace cloudbook {
namespace {

// Every invariant of a split of `labels` into `halves`.
void ExpectValidSplit(const std::vector<int64_t>& labels,
                      const std::pair<std::vector<int64_t>, std::vector<int64_t>>& halves) {
  const auto& [first, second] = halves;
  EXPECT_TRUE(std::is_sorted(first.begin(), first.end())) << "first half sorted ascending";
  EXPECT_TRUE(std::is_sorted(second.begin(), second.end())) << "second half sorted ascending";

  std::vector<int> seen(labels.size(), 0);
  for (int64_t i : first) {
    ASSERT_GE(i, 0);
    ASSERT_LT(i, static_cast<int64_t>(labels.size()));
    ++seen[static_cast<size_t>(i)];
  }
  for (int64_t i : second) {
    ASSERT_GE(i, 0);
    ASSERT_LT(i, static_cast<int64_t>(labels.size()));
    ++seen[static_cast<size_t>(i)];
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], 1) << "sample " << i << " must be in exactly one half (disjoint, union "
                          << "= all indices)";
  }
  EXPECT_LE(std::abs(static_cast<long>(first.size()) - static_cast<long>(second.size())), 1)
      << "sizes " << first.size() << " and " << second.size();

  std::map<int64_t, long> balance;  // per label: count in first - count in second
  for (int64_t i : first) ++balance[labels[static_cast<size_t>(i)]];
  for (int64_t i : second) --balance[labels[static_cast<size_t>(i)]];
  for (const auto& [label, difference] : balance) {
    EXPECT_LE(std::abs(difference), 1) << "label " << label << " is not split evenly";
  }
}

std::vector<int64_t> RandomLabels(size_t count, uint64_t classes, uint64_t seed) {
  SeededRandom random(seed);
  std::vector<int64_t> labels(count);
  for (auto& label : labels) label = static_cast<int64_t>(random.Below(classes));
  return labels;
}

TEST(StratifiedHalves, IsAValidSplitOfRandomLabels) {
  for (size_t count : {0u, 1u, 2u, 3u, 7u, 100u, 1001u}) {
    for (uint64_t classes : {1u, 2u, 5u}) {
      SCOPED_TRACE("count " + std::to_string(count) + ", classes " + std::to_string(classes));
      const auto labels = RandomLabels(count, classes, count * 31 + classes);
      ExpectValidSplit(labels, StratifiedHalves(labels, 1234));
    }
  }
}

TEST(StratifiedHalves, OddLabelCountsAlternateTheExtraSample) {
  // Three labels with 3 samples each: if the extra always went to the first half it would
  // hold 6 of 9. Alternating keeps the halves within one sample.
  const std::vector<int64_t> labels = {0, 0, 0, 1, 1, 1, 2, 2, 2};
  const auto halves = StratifiedHalves(labels, 5);
  ExpectValidSplit(labels, halves);
  EXPECT_EQ(halves.first.size() + halves.second.size(), 9u);
  EXPECT_EQ(halves.first.size(), 5u) << "labels 0 and 2 give the first half their extra";
}

TEST(StratifiedHalves, SameSeedSameHalves) {
  const auto labels = RandomLabels(500, 2, 99);
  const auto a = StratifiedHalves(labels, 42);
  const auto b = StratifiedHalves(labels, 42);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
}

TEST(StratifiedHalves, DifferentSeedDifferentHalves) {
  const auto labels = RandomLabels(500, 2, 99);
  const auto a = StratifiedHalves(labels, 42);
  const auto b = StratifiedHalves(labels, 43);
  EXPECT_NE(a.first, b.first) << "the shuffle must depend on the seed";
  ExpectValidSplit(labels, b);
}

TEST(StratifiedHalves, SortedLabelsGiveBothLabelsToBothHalves) {
  // The original's bug: data sorted by label split by position gives one subnet only 0s and
  // the other only 1s.
  std::vector<int64_t> labels(100, 0);
  std::fill(labels.begin() + 50, labels.end(), 1);
  const auto halves = StratifiedHalves(labels, 42);
  ExpectValidSplit(labels, halves);
  for (const auto* half : {&halves.first, &halves.second}) {
    long zeros = 0, ones = 0;
    for (int64_t i : *half) (labels[static_cast<size_t>(i)] == 0 ? zeros : ones) += 1;
    EXPECT_EQ(zeros, 25);
    EXPECT_EQ(ones, 25);
  }
  // And the halves are a shuffle, not the first and last 25 of each label.
  EXPECT_NE(halves.first, (std::vector<int64_t>{0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                                13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 50,
                                                51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
                                                64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74}));
}

TEST(StratifiedHalves, UnbalancedLabelsStayProportional) {
  std::vector<int64_t> labels(90, 0);
  std::fill(labels.begin() + 80, labels.end(), 1);  // 80 zeros, 10 ones, sorted
  const auto halves = StratifiedHalves(labels, 3);
  ExpectValidSplit(labels, halves);
  long ones_first = 0;
  for (int64_t i : halves.first) ones_first += labels[static_cast<size_t>(i)];
  EXPECT_EQ(ones_first, 5) << "the rare label is split evenly too";
}

}  // namespace
}  // namespace cloudbook
