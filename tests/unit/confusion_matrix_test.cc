// The confusion matrix and per-class scores the results keep for the composed model and the
// baseline (shared/confusion_matrix.h). Every expected number is counted by hand from the
// labels and predictions written in the test.
#include "shared/confusion_matrix.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shared/tunables.h"

namespace cloudbook {
namespace {

// 3 classes, 9 samples. [true][predicted]:
//   class 0: 2 right, 1 taken for 1         -> row {2, 1, 0}
//   class 1: 1 right, 1 taken for 2         -> row {0, 1, 1}
//   class 2: 2 right, 2 taken for 0         -> row {2, 0, 2}
const std::vector<int64_t> kLabels = {0, 0, 0, 1, 1, 2, 2, 2, 2};
const std::vector<int64_t> kPredicted = {0, 0, 1, 1, 2, 2, 2, 0, 0};

TEST(ConfusionMatrix, CountsTrueAgainstPredictedClasses) {
  Result<ConfusionMatrix> matrix = CountConfusion(kLabels, kPredicted, 3);
  ASSERT_TRUE(matrix.ok()) << matrix.status().ToString();
  EXPECT_EQ(matrix->counts, (std::vector<int64_t>{2, 1, 0, 0, 1, 1, 2, 0, 2}));
  EXPECT_EQ(matrix->at(2, 0), 2);
}

TEST(ConfusionMatrix, ScoresEachClassByHand) {
  const std::vector<ClassScore> scores = ScoreClasses(*CountConfusion(kLabels, kPredicted, 3));
  ASSERT_EQ(scores.size(), 3u);
  // Class 0: 3 samples, 2 right; 4 predicted as 0 (2 of class 2): precision 2/4.
  EXPECT_EQ(scores[0].support, 3);
  EXPECT_EQ(scores[0].predicted, 4);
  EXPECT_DOUBLE_EQ(scores[0].accuracy, 2.0 / 3);
  EXPECT_DOUBLE_EQ(scores[0].recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(scores[0].precision, 0.5);
  EXPECT_DOUBLE_EQ(scores[0].f1, 4.0 / 7);  // 2 * (1/2 * 2/3) / (1/2 + 2/3)
  // Class 1: 2 samples, 1 right; 2 predicted as 1.
  EXPECT_DOUBLE_EQ(scores[1].accuracy, 0.5);
  EXPECT_DOUBLE_EQ(scores[1].precision, 0.5);
  EXPECT_DOUBLE_EQ(scores[1].f1, 0.5);
  // Class 2: 4 samples, 2 right; 3 predicted as 2.
  EXPECT_EQ(scores[2].support, 4);
  EXPECT_DOUBLE_EQ(scores[2].accuracy, 0.5);
  EXPECT_DOUBLE_EQ(scores[2].precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(scores[2].f1, 4.0 / 7);
}

TEST(ConfusionMatrix, AClassNeverPredictedOrAbsentScoresZeroNotNan) {
  const std::vector<ClassScore> scores = ScoreClasses(*CountConfusion({0, 0}, {0, 1}, 3));
  EXPECT_EQ(scores[2].support, 0);
  EXPECT_EQ(scores[2].accuracy, 0.0);
  EXPECT_EQ(scores[2].precision, 0.0);
  EXPECT_EQ(scores[2].f1, 0.0);
  EXPECT_EQ(scores[1].precision, 0.0);  // predicted once, never right
}

TEST(ConfusionMatrix, ResultsEntriesHoldTheMatrixAndPerClassRows) {
  const Json entries = ConfusionEntries(*CountConfusion(kLabels, kPredicted, 3));
  EXPECT_EQ(entries["confusion"], Json::parse("[[2,1,0],[0,1,1],[2,0,2]]"));
  ASSERT_EQ(entries["per_class"].size(), 3u);
  EXPECT_EQ(entries["per_class"][2]["class"], 2);
  EXPECT_EQ(entries["per_class"][2]["support"], 4);
  EXPECT_DOUBLE_EQ(entries["per_class"][2]["precision"].get<double>(), 2.0 / 3);
}

TEST(ConfusionMatrix, ManyClassesAreOmittedWithTheReason) {
  const int64_t classes = GetTunables().confusion_max_classes + 1;
  const Json entries = ConfusionEntries(*CountConfusion({0}, {classes - 1}, classes));
  EXPECT_FALSE(entries.contains("confusion"));
  EXPECT_NE(entries["confusion_omitted"].get<std::string>().find("confusion_max_classes"),
            std::string::npos);
}

TEST(ConfusionMatrix, RefusesOutOfRangeIdsNamingTheSample) {
  Result<ConfusionMatrix> bad = CountConfusion({0, 1, 3}, {0, 1, 1}, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sample 2"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(CountConfusion({0, 1}, {0}, 3).ok());
}

TEST(ConfusionMatrix, ComposedEntriesCountTheComposedPredictions) {
  ProjectProgram program;
  program.problem = ProblemType::kMulticlass;
  program.num_classes = 3;
  // Subnet A knows classes 0 and 1, subnet B class 1 and 2. Per sample the product picks:
  // sample 0: A says 0 (0.9), B says 1 or 2 evenly -> 0 (0.9*... vs 0.1*0.5): class 0.
  // sample 1: A says 1 (0.8), B says 1 (0.7): class 1.  sample 2: A evenly, B says 2: class 2.
  SubnetPrediction a;
  a.classes = {0, 1};
  a.outputs = Array{{3, 2}, {0.9f, 0.1f, 0.2f, 0.8f, 0.5f, 0.5f}};
  SubnetPrediction b;
  b.classes = {1, 2};
  b.outputs = Array{{3, 2}, {0.5f, 0.5f, 0.7f, 0.3f, 0.1f, 0.9f}};
  Result<Json> entries = ComposedConfusionEntries(program, {a, b}, {0, 1, 1});
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  // Sample 2 (label 1) was predicted 2.
  EXPECT_EQ((*entries)["confusion"], Json::parse("[[1,0,0],[0,1,1],[0,0,0]]"));

  program.problem = ProblemType::kRegression;
  EXPECT_EQ(*ComposedConfusionEntries(program, {a}, {}), Json::object());
}

TEST(ConfusionMatrix, OutputsEntriesTakeTheArgmaxOfEachRow) {
  ProjectProgram program;
  program.problem = ProblemType::kBinary;
  program.num_classes = 2;
  const Array outputs{{3, 2}, {0.3f, 0.7f, 0.6f, 0.4f, 0.2f, 0.8f}};
  Result<Json> entries = OutputsConfusionEntries(program, outputs, {1, 1, 0});
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ((*entries)["confusion"], Json::parse("[[0,1],[1,1]]"));
  EXPECT_FALSE(OutputsConfusionEntries(program, Array{{1, 3}, {0, 0, 1}}, {0}).ok());
}

TEST(ConfusionMatrix, TravelsAsAFloatArrayAndBack) {
  const ConfusionMatrix matrix = *CountConfusion(kLabels, kPredicted, 3);
  const Array wire = ConfusionToArray(matrix);
  EXPECT_EQ(wire.shape, (std::vector<int64_t>{3, 3}));
  Result<ConfusionMatrix> back = ConfusionFromArray(wire);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->counts, matrix.counts);
  EXPECT_FALSE(ConfusionFromArray(Array{{2, 3}, {0, 0, 0, 0, 0, 0}}).ok());
  EXPECT_FALSE(ConfusionFromArray(Array{{1, 1}, {0.5f}}).ok());
  EXPECT_FALSE(ConfusionFromArray(Array{{1, 1}, {-1.0f}}).ok());
}

}  // namespace
}  // namespace cloudbook
