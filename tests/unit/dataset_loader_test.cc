// What a subnet sees of the data: its classes remapped to ranks, its stratified half, or its
// block of output columns; empty splits stay empty.
#include "shared/data/dataset_loader.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace cloudbook {
namespace {

LabeledArrays Labeled(const std::vector<int64_t>& labels) {
  LabeledArrays arrays;
  const auto n = static_cast<int64_t>(labels.size());
  arrays.x.shape = {n, 2};
  arrays.y.shape = {n};
  for (int64_t i = 0; i < n; ++i) {
    arrays.x.values.insert(arrays.x.values.end(), {static_cast<float>(i), -1.0f});
    arrays.y.values.push_back(static_cast<float>(labels[i]));
  }
  arrays.labels = labels;
  return arrays;
}

// As Keras' fit(validation_split=s): train on floor(n (1 - s)), validate on the rest (one row
// more than floor(n s) when n s is not whole).
TEST(KerasTrainRows, TrainsOnTheFloorOfTheKeptFraction) {
  EXPECT_EQ(KerasTrainRows(9144, 0.2), 7315);  // validates on 1,829, not floor(1828.8)
  EXPECT_EQ(KerasTrainRows(100, 0.1), 90);
  EXPECT_EQ(KerasTrainRows(10, 0.0), 10);
  EXPECT_EQ(KerasTrainRows(7, 0.5), 3);
}

TEST(SelectSubnetData, MulticlassKeepsItsClassesAndRemapsThemToRanks) {
  ProjectProgram program;
  program.problem = ProblemType::kMulticlass;
  program.num_classes = 5;
  ProblemData all;
  all.train = Labeled({0, 4, 2, 3, 1, 4});
  all.test = Labeled({3, 4, 0});
  SubnetSpec subnet;
  subnet.classes = {1, 3, 4};
  const ProblemData view = SelectSubnetData(all, program, subnet);
  EXPECT_EQ(view.train.labels, (std::vector<int64_t>{2, 1, 0, 2}));  // classes 4, 3, 1, 4
  EXPECT_EQ(view.train.y.values, (std::vector<float>{2, 1, 0, 2}));
  EXPECT_EQ(view.train.x.values[0], 1.0f) << "sample 1 is the first of class 4";
  EXPECT_EQ(view.test.labels, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(view.validation.rows(), 0);
}

TEST(SelectSubnetData, EmptyValidationSplitStaysEmptyForEveryProblem) {
  for (ProblemType problem :
       {ProblemType::kMulticlass, ProblemType::kBinary, ProblemType::kRegression}) {
    ProjectProgram program;
    program.problem = problem;
    program.num_classes = 2;
    program.output_columns = 2;
    ProblemData all;
    all.train = Labeled({0, 1, 0, 1});
    all.train.y.shape = {4, 1};
    SubnetSpec subnet;
    subnet.classes = {0, 1};
    subnet.half = 1;
    subnet.column_begin = 0;
    subnet.column_end = 1;
    const ProblemData view = SelectSubnetData(all, program, subnet);
    EXPECT_EQ(view.validation.rows(), 0) << ProblemTypeName(problem);
    EXPECT_EQ(view.test.rows(), 0) << ProblemTypeName(problem);
    EXPECT_GT(view.train.rows(), 0) << ProblemTypeName(problem);
  }
}

TEST(SelectSubnetData, BinaryHalvesAreDisjointAndTestIsWhole) {
  ProjectProgram program;
  program.problem = ProblemType::kBinary;
  program.num_classes = 2;
  ProblemData all;
  all.train = Labeled({0, 0, 0, 0, 1, 1, 1, 1});
  all.test = Labeled({0, 1, 1});
  SubnetSpec first, second;
  first.half = 0;
  second.half = 1;
  const ProblemData a = SelectSubnetData(all, program, first);
  const ProblemData b = SelectSubnetData(all, program, second);
  EXPECT_EQ(a.train.rows(), 4);
  EXPECT_EQ(b.train.rows(), 4);
  std::vector<float> seen;
  for (const auto* half : {&a, &b}) {
    for (int64_t r = 0; r < half->train.rows(); ++r) seen.push_back(half->train.x.values[2 * r]);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(a.test.rows(), 3);
}

TEST(SelectSubnetData, RegressionCutsItsColumnBlock) {
  ProjectProgram program;
  program.problem = ProblemType::kRegression;
  program.output_columns = 3;
  ProblemData all;
  all.train.x.shape = {2, 1};
  all.train.x.values = {1, 2};
  all.train.y.shape = {2, 3};
  all.train.y.values = {10, 11, 12, 20, 21, 22};
  SubnetSpec subnet;
  subnet.column_begin = 1;
  subnet.column_end = 3;
  const ProblemData view = SelectSubnetData(all, program, subnet);
  EXPECT_EQ(view.train.y.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(view.train.y.values, (std::vector<float>{11, 12, 21, 22}));
  EXPECT_EQ(view.train.x.values, all.train.x.values);
}

}  // namespace
}  // namespace cloudbook
