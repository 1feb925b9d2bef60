// Composition of the subnets' test-set predictions (docs/design/deconstruction.md):
// multiclass multiplies class probabilities (in log space), binary takes the subnet with the
// larger margin, regression concatenates column blocks. Every expected number below is
// computed by hand from the inputs written in the test.
#include "shared/composition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "maker/deconstruction.h"
#include "shared/seeded_random.h"

namespace cloudbook {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Array Rows(int64_t rows, int64_t width, std::vector<float> values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), rows * width) << "test data shape";
  return Array{{rows, width}, std::move(values)};
}

SubnetPrediction Multiclass(std::vector<int64_t> classes, Array outputs) {
  SubnetPrediction prediction;
  prediction.outputs = std::move(outputs);
  prediction.classes = std::move(classes);
  return prediction;
}

SubnetPrediction Block(int64_t column_begin, Array outputs) {
  SubnetPrediction prediction;
  prediction.outputs = std::move(outputs);
  prediction.column_begin = column_begin;
  return prediction;
}

// ---- Multiclass: a hand-computed example ----------------------------------------------
//
// N = 4 classes; subnet A owns {0, 1, 2}, subnet B owns {1, 2, 3}.
//   sample 0: A = (0.5, 0.3, 0.2), B = (0.6, 0.3, 0.1)
//             products: c0 0.5, c1 0.3*0.6 = 0.18, c2 0.2*0.3 = 0.06, c3 0.1  -> 0
//   sample 1: A = (0.1, 0.2, 0.7), B = (0.2, 0.5, 0.3)
//             products: c0 0.1, c1 0.2*0.2 = 0.04, c2 0.7*0.5 = 0.35, c3 0.3  -> 2
//   sample 2: A = (0.2, 0.4, 0.4), B = (0.25, 0.25, 0.5)
//             products: c0 0.2, c1 0.4*0.25 = 0.1, c2 0.4*0.25 = 0.1, c3 0.5 -> 3
std::vector<SubnetPrediction> HandExample() {
  return {Multiclass({0, 1, 2}, Rows(3, 3,
                                     {0.5f, 0.3f, 0.2f,  //
                                      0.1f, 0.2f, 0.7f,  //
                                      0.2f, 0.4f, 0.4f})),
          Multiclass({1, 2, 3}, Rows(3, 3,
                                     {0.6f, 0.3f, 0.1f,  //
                                      0.2f, 0.5f, 0.3f,  //
                                      0.25f, 0.25f, 0.5f}))};
}
const double kHandProducts[3][4] = {
    {0.5, 0.18, 0.06, 0.1}, {0.1, 0.04, 0.35, 0.3}, {0.2, 0.1, 0.1, 0.5}};

TEST(ComposeMulticlass, LogScoresAreTheLogOfThePlainProduct) {
  const Result<MulticlassComposition> composed = ComposeMulticlass(HandExample(), 4);
  ASSERT_TRUE(composed.ok()) << composed.status().ToString();
  ASSERT_EQ(composed->log_scores.shape, (std::vector<int64_t>{3, 4}));
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) {
      EXPECT_NEAR(composed->log_scores.values[static_cast<size_t>(r * 4 + c)],
                  std::log(kHandProducts[r][c]), 1e-5)
          << "sample " << r << ", class " << c;
    }
  }
  EXPECT_EQ(composed->predictions, (std::vector<int64_t>{0, 2, 3}));
}

TEST(MulticlassMetrics, AccuracyOriginalLossAndNllByHand) {
  const Result<MulticlassComposition> composed = ComposeMulticlass(HandExample(), 4);
  ASSERT_TRUE(composed.ok()) << composed.status().ToString();
  const std::vector<int64_t> labels = {0, 3, 3};  // sample 1 is predicted 2: wrong
  const Metrics metrics = MulticlassMetrics(*composed, labels);

  EXPECT_NEAR(metrics.at("accuracy"), 2.0 / 3.0, 1e-12);
  // The original's figure: -log of the raw product at the true class.
  const double loss = (-std::log(0.5) - std::log(0.3) - std::log(0.5)) / 3;
  EXPECT_NEAR(metrics.at("loss"), loss, 1e-6);
  // NLL after a softmax over the log scores = the product renormalised per sample.
  const double nll =
      (-std::log(0.5 / (0.5 + 0.18 + 0.06 + 0.1)) - std::log(0.3 / (0.1 + 0.04 + 0.35 + 0.3)) -
       std::log(0.5 / (0.2 + 0.1 + 0.1 + 0.5))) /
      3;
  EXPECT_NEAR(metrics.at("nll"), nll, 1e-6);
  EXPECT_LT(metrics.at("nll"), metrics.at("loss")) << "renormalising can only raise p(truth)";
}

TEST(MulticlassMetrics, OriginalLossClipsTinyProducts) {
  // One subnet owning both classes, certain of the wrong one: p(truth) = 0 is clipped to
  // 1e-7 in the original's figure, so the loss is -log(1e-7), not infinite.
  const auto composed = ComposeMulticlass({Multiclass({0, 1}, Rows(1, 2, {1.0f, 0.0f}))}, 2);
  ASSERT_TRUE(composed.ok()) << composed.status().ToString();
  EXPECT_EQ(composed->predictions, (std::vector<int64_t>{0}));
  EXPECT_TRUE(std::isfinite(composed->log_scores.values[1])) << "no -inf scores";
  const Metrics metrics = MulticlassMetrics(*composed, {1});
  EXPECT_NEAR(metrics.at("loss"), -std::log(1e-7), 1e-6);
  EXPECT_TRUE(std::isfinite(metrics.at("nll")));
  EXPECT_DOUBLE_EQ(metrics.at("accuracy"), 0.0);
}

// The argmax of the plain product, computed in `Scalar` arithmetic.
template <typename Scalar>
std::vector<int64_t> PlainProductArgmax(const std::vector<SubnetPrediction>& subnets,
                                        int64_t samples, int64_t classes,
                                        std::vector<Scalar>* products = nullptr) {
  std::vector<Scalar> product(static_cast<size_t>(samples * classes), Scalar(1));
  for (const SubnetPrediction& subnet : subnets) {
    const auto width = static_cast<int64_t>(subnet.classes.size());
    for (int64_t r = 0; r < samples; ++r) {
      for (int64_t rank = 0; rank < width; ++rank) {
        product[static_cast<size_t>(r * classes + subnet.classes[static_cast<size_t>(rank)])] *=
            static_cast<Scalar>(subnet.outputs.values[static_cast<size_t>(r * width + rank)]);
      }
    }
  }
  std::vector<int64_t> argmax;
  for (int64_t r = 0; r < samples; ++r) {
    const auto row = product.begin() + r * classes;
    argmax.push_back(std::max_element(row, row + classes) - row);
  }
  if (products) *products = product;
  return argmax;
}

// Softmax-like rows for every subnet of the g-group pair structure of N classes; `weight`
// gives each (sample, class) its unnormalised probability.
template <typename Weight>
std::vector<SubnetPrediction> PairStructurePredictions(int64_t classes, int64_t g, int64_t samples,
                                                       Weight weight) {
  const auto groups = ClassGroups(classes, g);
  std::vector<SubnetPrediction> subnets;
  for (const auto& pair : GroupPairs(g)) {
    std::vector<int64_t> owned = PairClasses(groups, pair);
    const auto width = static_cast<int64_t>(owned.size());
    std::vector<float> values;
    for (int64_t r = 0; r < samples; ++r) {
      double sum = 0;
      std::vector<double> row;
      for (int64_t c : owned) {
        row.push_back(weight(r, c));
        sum += row.back();
      }
      for (double w : row) values.push_back(static_cast<float>(w / sum));
    }
    subnets.push_back(Multiclass(owned, Rows(samples, width, std::move(values))));
  }
  return subnets;
}

TEST(ComposeMulticlass, LogSpaceAgreesWithThePlainProductOnRandomInputs) {
  constexpr int64_t kClasses = 20, kGroups = 5, kSamples = 1000;
  SeededRandom random(2024);
  auto uniform = [&] { return static_cast<double>(random.Next() >> 11) * 0x1.0p-53; };
  const auto subnets = PairStructurePredictions(
      kClasses, kGroups, kSamples, [&](int64_t, int64_t) { return std::exp(4 * uniform()); });
  ASSERT_EQ(subnets.size(), 10u) << "g = 5: 10 subnets of 8 classes";

  const Result<MulticlassComposition> composed = ComposeMulticlass(subnets, kClasses);
  ASSERT_TRUE(composed.ok()) << composed.status().ToString();
  const std::vector<int64_t> plain = PlainProductArgmax<double>(subnets, kSamples, kClasses);
  int disagreements = 0;
  for (int64_t r = 0; r < kSamples; ++r) {
    if (composed->predictions[static_cast<size_t>(r)] != plain[static_cast<size_t>(r)]) {
      ++disagreements;
    }
  }
  EXPECT_EQ(disagreements, 0) << "of " << kSamples << " samples";
}

TEST(ComposeMulticlass, LogSpaceSurvivesWhereTheFloatProductUnderflows) {
  // N = 400 in g = 40 groups: 780 subnets of 20 classes, each class in 39 of them. The true
  // class gets weight 1.2, the others 1: p(truth) ~ 1.2 / 20.2 per subnet, and 0.059^39 is
  // about 1e-48, below the smallest float32. The plain product is 0 for every class.
  constexpr int64_t kClasses = 400, kGroups = 40;
  const std::vector<int64_t> truth = {7, 123, 399, 250};
  const auto samples = static_cast<int64_t>(truth.size());
  const auto subnets = PairStructurePredictions(
      kClasses, kGroups, samples,
      [&](int64_t r, int64_t c) { return c == truth[static_cast<size_t>(r)] ? 1.2 : 1.0; });
  ASSERT_EQ(subnets.size(), 780u);

  std::vector<float> products;
  const std::vector<int64_t> plain =
      PlainProductArgmax<float>(subnets, samples, kClasses, &products);
  EXPECT_TRUE(std::all_of(products.begin(), products.end(), [](float p) { return p == 0.0f; }))
      << "the float32 product underflows to 0 everywhere";
  EXPECT_EQ(plain, (std::vector<int64_t>{0, 0, 0, 0})) << "so its argmax is meaningless";

  const Result<MulticlassComposition> composed = ComposeMulticlass(subnets, kClasses);
  ASSERT_TRUE(composed.ok()) << composed.status().ToString();
  EXPECT_EQ(composed->predictions, truth) << "log space still finds the true class";
  EXPECT_DOUBLE_EQ(MulticlassMetrics(*composed, truth).at("accuracy"), 1.0);
}

TEST(ComposeMulticlass, ShapeMismatchesAreErrors) {
  auto rows_mismatch = HandExample();
  rows_mismatch[1].outputs = Rows(2, 3, {0.6f, 0.3f, 0.1f, 0.2f, 0.5f, 0.3f});
  Result<MulticlassComposition> composed = ComposeMulticlass(rows_mismatch, 4);
  ASSERT_FALSE(composed.ok());
  EXPECT_EQ(composed.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(
      Contains(composed.status().message(), "subnet 1 predicted a 2 x 3 array; expected 3 x 3"))
      << composed.status().message();

  auto width_mismatch = HandExample();
  width_mismatch[0].classes = {0, 1};  // 3 probabilities for 2 classes
  composed = ComposeMulticlass(width_mismatch, 4);
  ASSERT_FALSE(composed.ok());
  EXPECT_TRUE(
      Contains(composed.status().message(), "subnet 0 predicted a 3 x 3 array; expected 3 x 2"))
      << composed.status().message();

  composed = ComposeMulticlass(HandExample(), 3);  // class 3 does not exist
  ASSERT_FALSE(composed.ok());
  EXPECT_TRUE(Contains(composed.status().message(), "subnet 1 owns class 3 outside 0..2"))
      << composed.status().message();

  EXPECT_FALSE(ComposeMulticlass({}, 4).ok()) << "nothing to compose";
}

// ---- Binary ---------------------------------------------------------------------------

TEST(ComposeBinary, LargerMarginWinsAndTiesGoToSubnetZero) {
  SubnetPrediction subnet0, subnet1;
  subnet0.outputs = Rows(3, 2,
                         {0.6f, 0.4f,    // margin 0.2
                          0.9f, 0.1f,    // margin 0.8
                          0.7f, 0.3f});  // margin 0.4
  subnet1.outputs = Rows(3, 2,
                         {0.1f, 0.9f,    // margin 0.8: subnet 1 wins
                          0.4f, 0.6f,    // margin 0.2: subnet 0 wins
                          0.3f, 0.7f});  // margin 0.4: a tie, subnet 0
  const Result<Array> composed = ComposeBinary(subnet0, subnet1);
  ASSERT_TRUE(composed.ok()) << composed.status().ToString();
  EXPECT_EQ(composed->shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(composed->values, (std::vector<float>{0.1f, 0.9f, 0.9f, 0.1f, 0.7f, 0.3f}));
}

TEST(ClassificationMetrics, AccuracyAndBinaryCrossEntropyByHand) {
  const Array probabilities = Rows(4, 2, {0.1f, 0.9f, 0.9f, 0.1f, 0.7f, 0.3f, 0.2f, 0.8f});
  const std::vector<int64_t> labels = {1, 0, 1, 1};  // sample 2 predicted 0: wrong
  const Metrics metrics = ClassificationMetrics(probabilities, labels);
  EXPECT_DOUBLE_EQ(metrics.at("accuracy"), 0.75);
  const double bce = (-std::log(0.9) - std::log(0.9) - std::log(0.3) - std::log(0.8)) / 4;
  EXPECT_NEAR(metrics.at("loss"), bce, 1e-6);
}

TEST(ClassificationMetrics, CertainWrongAnswersAreClipped) {
  const Metrics metrics = ClassificationMetrics(Rows(1, 2, {1.0f, 0.0f}), {1});
  EXPECT_NEAR(metrics.at("loss"), -std::log(1e-7), 1e-6) << "clipped to [1e-7, 1 - 1e-7]";
}

TEST(ComposeBinary, ShapeMismatchesAreErrors) {
  SubnetPrediction two, three, fewer_rows;
  two.outputs = Rows(2, 2, {0.5f, 0.5f, 0.5f, 0.5f});
  three.outputs = Rows(2, 3, {0.2f, 0.3f, 0.5f, 0.2f, 0.3f, 0.5f});
  fewer_rows.outputs = Rows(1, 2, {0.5f, 0.5f});
  EXPECT_FALSE(ComposeBinary(two, three).ok()) << "3 columns";
  EXPECT_FALSE(ComposeBinary(three, two).ok()) << "3 columns";
  const Result<Array> rows = ComposeBinary(two, fewer_rows);
  ASSERT_FALSE(rows.ok()) << "2 rows against 1";
  EXPECT_EQ(rows.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(rows.status().message(), "two [samples, 2] predictions"))
      << rows.status().message();
}

// ---- Regression -----------------------------------------------------------------------

TEST(ComposeRegression, ConcatenatesBlocksByColumnBegin) {
  // Given out of order on purpose: the block starting at column 3 first.
  const std::vector<SubnetPrediction> subnets = {
      Block(3, Rows(2, 2, {3.0f, 4.0f, 13.0f, 14.0f})),
      Block(0, Rows(2, 3, {0.0f, 1.0f, 2.0f, 10.0f, 11.0f, 12.0f}))};
  const Result<Array> composed = ComposeRegression(subnets, 5);
  ASSERT_TRUE(composed.ok()) << composed.status().ToString();
  EXPECT_EQ(composed->shape, (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(composed->values, (std::vector<float>{0, 1, 2, 3, 4, 10, 11, 12, 13, 14}));
}

TEST(RegressionMetrics, MseAndMaeByHand) {
  const Array predictions = Rows(2, 2, {1.0f, 2.0f, 3.0f, 4.0f});
  const Array targets = Rows(2, 2, {1.5f, 2.0f, 1.0f, 5.0f});
  // Differences: -0.5, 0, 2, -1.
  const Metrics metrics = RegressionMetrics(predictions, targets);
  EXPECT_DOUBLE_EQ(metrics.at("mse"), (0.25 + 0 + 4 + 1) / 4);
  EXPECT_DOUBLE_EQ(metrics.at("mae"), (0.5 + 0 + 2 + 1) / 4);
}

TEST(ComposeRegression, GapsAndMisfitsAreErrors) {
  // Columns [0, 2) and [3, 4) of 4: column 2 is nobody's.
  const Result<Array> gap =
      ComposeRegression({Block(0, Rows(1, 2, {0.0f, 1.0f})), Block(3, Rows(1, 1, {3.0f}))}, 4);
  ASSERT_FALSE(gap.ok()) << "column 2 uncovered";
  EXPECT_EQ(gap.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(gap.status().message(), "uncovered")) << gap.status().message();

  const Result<Array> overflow = ComposeRegression(
      {Block(0, Rows(1, 2, {0.0f, 1.0f})), Block(2, Rows(1, 3, {2.0f, 3.0f, 4.0f}))}, 4);
  ASSERT_FALSE(overflow.ok()) << "the second block ends at column 5 of 4";
  EXPECT_TRUE(Contains(overflow.status().message(), "subnet 1 predicted a block that does not fit"))
      << overflow.status().message();

  const Result<Array> rows = ComposeRegression(
      {Block(0, Rows(1, 2, {0.0f, 1.0f})), Block(2, Rows(2, 2, {2.0f, 3.0f, 2.0f, 3.0f}))}, 4);
  EXPECT_FALSE(rows.ok()) << "1 row against 2";

  EXPECT_FALSE(ComposeRegression({}, 4).ok()) << "nothing to compose";
}

TEST(RowArgmax, FirstMaximumWins) {
  EXPECT_EQ(RowArgmax(Rows(3, 3, {1, 3, 2, 5, 5, 1, 0, 0, 0})), (std::vector<int64_t>{1, 0, 0}));
}

}  // namespace
}  // namespace cloudbook
