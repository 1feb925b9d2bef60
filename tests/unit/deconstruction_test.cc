// The SkyNNet deconstruction rules (docs/design/deconstruction.md), one test per rule: how
// many class groups a requested n gives, which classes each subnet owns, how widths are
// divided by F, and what DeconstructProgram makes of whole programs.
#include "maker/deconstruction.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "maker/program_parser.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The MLP example of docs/design/program.md, verbatim.
const std::string kFashionMlp = testing::SpecFashionMlpProgram();

// The original's CNN 25/64/64 on MNIST (published: 17/43/43 at n=4).
constexpr char kMnistCnn[] = R"(name: mnist_cnn
problem: multiclass
data:
  train:
    x: {format: idx, path: mnist/train-images-idx3-ubyte.gz, scale: 255}
    y: {format: idx, path: mnist/train-labels-idx1-ubyte.gz}
vars:
  _FILTERS_1: 25
  _FILTERS_2: 64
  _FILTERS_3: 64
  _NEURON_1: 10
  _EPOCHS: 3
model:
  input: [784]
  layers:
    - reshape: {shape: [28, 28, 1]}
    - conv2d: {filters: _FILTERS_1, kernel: [3, 3], activation: relu}
    - maxpool2d: {pool: 2}
    - conv2d: {filters: _FILTERS_2, kernel: 3, padding: same, activation: relu}
    - maxpool2d
    - conv2d: {filters: _FILTERS_3, kernel: [3, 3], activation: relu}
    - flatten
    - dense: {units: _NEURON_1, activation: softmax}
train:
  optimizer: {sgd: {lr: 0.05, momentum: 0.9}}
  loss: sparse_categorical_crossentropy
  epochs: _EPOCHS
  epochs_policy: table
)";

constexpr char kBinary[] = R"(name: binary_net
problem: binary
seed: 7
data:
  train:
    x: {format: csv, path: data/train.csv, columns: [a, b, c]}
    y: {format: csv, path: data/train.csv, columns: [label]}
vars:
  _NEURON_1: 16
  _NEURON_2: 2
  _EPOCHS: 20
model:
  input: [3]
  layers:
    - dense: {units: _NEURON_1, activation: tanh}
    - dense: {units: _NEURON_2, activation: softmax}
train:
  optimizer: sgd
  loss: sparse_categorical_crossentropy
  epochs: _EPOCHS
)";

constexpr char kAutoencoder[] = R"(name: mnist_autoencoder
problem: regression
data:
  train:
    x: {format: idx, path: mnist/train-images-idx3-ubyte.gz, scale: 255}
    y: same_as_x
vars: {_NEURON_1: 128, _EMBEDDING_1: 32, _NEURON_2: 784, _EPOCHS: 5}
model:
  input: 784
  layers:
    - dense: {units: _NEURON_1, activation: relu}
    - dense: {units: _EMBEDDING_1, activation: relu}
    - dense: {units: _NEURON_2, activation: sigmoid}
train:
  optimizer: {adam: {}}
  loss: mse
  epochs: _EPOCHS
)";

// `text` with the single occurrence of `from` replaced by `to`.
std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "not in the base program: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

Program Parse(const std::string& text, const std::string& source = "mlp.yaml") {
  Result<Program> program = ParseProgramText(text, source);
  EXPECT_TRUE(program.ok()) << program.status().ToString();
  return program.ok() ? std::move(program).value() : Program();
}

DeconstructionPlan Plan(const Program& program, int64_t n) {
  Result<DeconstructionPlan> plan = PlanDeconstruction(program, n);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? std::move(plan).value() : DeconstructionPlan();
}

std::vector<SubnetSpec> Deconstruct(const Program& program, int64_t n, int64_t samples = 0) {
  Result<std::vector<SubnetSpec>> subnets = DeconstructProgram(program, Plan(program, n), samples);
  EXPECT_TRUE(subnets.ok()) << subnets.status().ToString();
  return subnets.ok() ? std::move(subnets).value() : std::vector<SubnetSpec>();
}

// The resolved `units` of a dense layer.
int64_t Units(const SubnetSpec& subnet, size_t layer) {
  const NumberOrVar& units = subnet.model.layers.at(layer).numbers.at("units").at(0);
  EXPECT_FALSE(units.is_var()) << "layer " << layer << " still names " << units.var;
  return static_cast<int64_t>(units.value);
}

std::vector<int64_t> Iota(int64_t begin, int64_t end) {
  std::vector<int64_t> out;
  for (int64_t c = begin; c < end; ++c) out.push_back(c);
  return out;
}

// ---- Class groups and pairs -----------------------------------------------------------

TEST(ClassGroups, TenClassesInThreeGroups) {
  EXPECT_EQ(ClassGroups(10, 3), (std::vector<IndexRange>{{0, 4}, {4, 7}, {7, 10}}))
      << "N mod g = 1: the first group gets the extra class";
  EXPECT_EQ(GroupPairs(3), (std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {0, 2}, {1, 2}}));
  const auto groups = ClassGroups(10, 3);
  EXPECT_EQ(PairClasses(groups, {0, 1}), Iota(0, 7));
  EXPECT_EQ(PairClasses(groups, {0, 2}), (std::vector<int64_t>{0, 1, 2, 3, 7, 8, 9}));
  EXPECT_EQ(PairClasses(groups, {1, 2}), Iota(4, 10));
}

TEST(ClassGroups, TenClassesInFourGroupsGiveSixSubnets) {
  const auto groups = ClassGroups(10, 4);
  EXPECT_EQ(groups, (std::vector<IndexRange>{{0, 3}, {3, 6}, {6, 8}, {8, 10}}))
      << "N mod g = 2: the first two groups get one more";
  const auto pairs = GroupPairs(4);
  ASSERT_EQ(pairs, (std::vector<std::pair<int64_t, int64_t>>{
                       {0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}}))
      << "lexicographic order";
  const std::vector<std::vector<int64_t>> expected = {
      {0, 1, 2, 3, 4, 5},  // (0,1)
      {0, 1, 2, 6, 7},     // (0,2)
      {0, 1, 2, 8, 9},     // (0,3)
      {3, 4, 5, 6, 7},     // (1,2)
      {3, 4, 5, 8, 9},     // (1,3)
      {6, 7, 8, 9},        // (2,3)
  };
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(PairClasses(groups, pairs[i]), expected[i]) << "subnet " << i;
  }
}

TEST(ClassGroups, EveryClassBelongsToExactlyGMinusOneSubnets) {
  for (const auto& [classes, g] :
       std::vector<std::pair<int64_t, int64_t>>{{10, 3}, {10, 4}, {10, 10}, {1623, 7}, {17, 5}}) {
    const auto groups = ClassGroups(classes, g);
    std::vector<int> memberships(static_cast<size_t>(classes), 0);
    for (const auto& pair : GroupPairs(g)) {
      const auto owned = PairClasses(groups, pair);
      EXPECT_TRUE(std::is_sorted(owned.begin(), owned.end()));
      for (int64_t c : owned) ++memberships[static_cast<size_t>(c)];
    }
    for (int64_t c = 0; c < classes; ++c) {
      EXPECT_EQ(memberships[static_cast<size_t>(c)], g - 1)
          << "class " << c << " of N=" << classes << ", g=" << g;
    }
  }
}

TEST(ClassGroups, GroupsAreContiguousAscendingAndBalanced) {
  const auto groups = ClassGroups(1623, 7);  // Omniglot: 1623 = 7 * 231 + 6
  ASSERT_EQ(groups.size(), 7u);
  int64_t next = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    EXPECT_EQ(groups[i].begin, next) << "group " << i;
    EXPECT_EQ(groups[i].size(), i < 6 ? 232 : 231) << "group " << i;
    next = groups[i].end;
  }
  EXPECT_EQ(next, 1623);
}

// ---- How many groups for a requested n ------------------------------------------------

TEST(MulticlassGroups, TakesTheLargestTriangularNumberNotAboveN) {
  const std::map<int64_t, int64_t> expected = {{3, 3},  {4, 3},  {5, 3},  {6, 4},  {9, 4},
                                               {10, 5}, {14, 5}, {15, 6}, {44, 9}, {45, 10}};
  for (const auto& [n, g] : expected) {
    const Result<int64_t> groups = MulticlassGroups(n, 1000);
    ASSERT_TRUE(groups.ok()) << "n=" << n << ": " << groups.status().ToString();
    EXPECT_EQ(*groups, g) << "n=" << n;
    EXPECT_EQ(TriangularSubnets(*groups) <= n, true) << "n=" << n;
  }
}

TEST(MulticlassGroups, ClosedFormIsExactAtEveryTriangularBoundary) {
  // Around every k = g(g-1)/2: n = k gives g, n = k - 1 gives g - 1 (no off-by-one from the
  // square root, even for huge n).
  for (int64_t g = 4; g <= 200000; g += (g < 1000 ? 1 : 997)) {
    const int64_t k = TriangularSubnets(g);
    const Result<int64_t> at = MulticlassGroups(k, INT64_C(1) << 40);
    const Result<int64_t> below = MulticlassGroups(k - 1, INT64_C(1) << 40);
    ASSERT_TRUE(at.ok() && below.ok()) << "g=" << g;
    ASSERT_EQ(*at, g) << "n=" << k;
    ASSERT_EQ(*below, g - 1) << "n=" << k - 1;
  }
}

TEST(MulticlassGroups, GroupsAreCappedByTheNumberOfClasses) {
  EXPECT_EQ(*MulticlassGroups(45, 10), 10);
  EXPECT_EQ(*MulticlassGroups(4950, 10), 10) << "g <= N";
  EXPECT_EQ(*MulticlassGroups(100, 4), 4);
  EXPECT_EQ(*MulticlassGroups(3, 3), 3);
  const Result<int64_t> two_classes = MulticlassGroups(3, 2);
  ASSERT_FALSE(two_classes.ok()) << "2 classes cannot make 3 groups";
  EXPECT_EQ(two_classes.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(two_classes.status().message(), "2 classes"))
      << two_classes.status().message();
}

TEST(MulticlassGroups, HugeRequestedCountsAreCappedWithoutOverflow) {
  // Regression test (fixed bug): MulticlassGroups(n >= ~4.6e18, N) never returns: g(g+1)/2
  // overflows int64 in the upward fix-up loop, which then spins (the CLI caps --subnets at
  // 100000, so only library callers reach it)
  EXPECT_EQ(*MulticlassGroups(INT64_C(1) << 62, 10), 10) << "g <= N = 10 whatever n is";
  EXPECT_EQ(*MulticlassGroups(INT64_MAX, 10), 10);
}

TEST(MulticlassGroups, FewerThanThreeSubnetsListsThePossibleCounts) {
  for (int64_t n : {2, 1, 0, -5}) {
    const Result<int64_t> groups = MulticlassGroups(n, 10);
    ASSERT_FALSE(groups.ok()) << "n=" << n;
    EXPECT_EQ(groups.status().code(), Status::Code::kInvalidArgument);
    const std::string& message = groups.status().message();
    EXPECT_TRUE(Contains(message, "possible n for 10 classes: 3, 6, 10, 15, 21, 28, ..."))
        << message;
    EXPECT_TRUE(Contains(message, "n=" + std::to_string(n) + " was asked")) << message;
  }
  // With 4 classes only g = 3 and 4 exist: no "...".
  const std::string message = MulticlassGroups(2, 4).status().message();
  EXPECT_TRUE(Contains(message, "possible n for 4 classes: 3, 6 (n=2")) << message;
}

TEST(MulticlassGroups, TenThousandClassesAreFastAndCoveredOnce) {
  const auto start = std::chrono::steady_clock::now();
  const Result<int64_t> ten = MulticlassGroups(45, 10000);
  ASSERT_TRUE(ten.ok()) << ten.status().ToString();
  EXPECT_EQ(*ten, 10);
  const Result<int64_t> hundred = MulticlassGroups(4950, 10000);
  ASSERT_TRUE(hundred.ok()) << hundred.status().ToString();
  EXPECT_EQ(*hundred, 100);
  EXPECT_EQ(*MulticlassGroups(INT64_C(49995000), 10000), 10000) << "g = N = 10,000";

  for (int64_t g : {*ten, *hundred}) {
    const auto groups = ClassGroups(10000, g);
    ASSERT_EQ(static_cast<int64_t>(groups.size()), g);
    std::vector<int> seen(10000, 0);
    for (const IndexRange& group : groups) {
      EXPECT_EQ(group.size(), 10000 / g);
      for (int64_t c = group.begin; c < group.end; ++c) ++seen[static_cast<size_t>(c)];
    }
    for (int64_t c = 0; c < 10000; ++c) {
      ASSERT_EQ(seen[static_cast<size_t>(c)], 1) << "class " << c << " with g=" << g;
    }
    // And every class is in g - 1 of the g(g-1)/2 subnets.
    const auto pairs = GroupPairs(g);
    ASSERT_EQ(static_cast<int64_t>(pairs.size()), TriangularSubnets(g));
    std::vector<int64_t> memberships(10000, 0);
    for (const auto& pair : pairs) {
      for (int64_t c : PairClasses(groups, pair)) ++memberships[static_cast<size_t>(c)];
    }
    for (int64_t c = 0; c < 10000; ++c) {
      ASSERT_EQ(memberships[static_cast<size_t>(c)], g - 1) << "class " << c;
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 2000)
      << "closed form, no recursion: 10,000 classes must not be slow";
}

// ---- Width reduction ------------------------------------------------------------------

TEST(ReduceWidth, RoundsUpTheQuotient) {
  EXPECT_EQ(*ReduceWidth("_NEURON_1", 128, 3, 2, ""), 86) << "128 / 1.5 = 85.33";
  EXPECT_EQ(*ReduceWidth("_NEURON_2", 60, 3, 2, ""), 40) << "60 / 1.5 = 40 exactly";
  EXPECT_EQ(*ReduceWidth("_NEURON_3", 10, 3, 2, ""), 7) << "10 / 1.5 = 6.67";
  EXPECT_EQ(*ReduceWidth("_FILTERS_1", 25, 3, 2, ""), 17);
  EXPECT_EQ(*ReduceWidth("_FILTERS_2", 64, 3, 2, ""), 43);
  EXPECT_EQ(*ReduceWidth("_NEURON_1", 128, 4, 1, ""), 32) << "regression F = n = 4";
  EXPECT_EQ(*ReduceWidth("_NEURON_1", 100, 5, 2, ""), 40) << "F = 2.5";
}

TEST(ReduceWidth, IsExactRationalArithmetic) {
  // F = 3/2 given as a fraction: 60 / F is exactly 40, never 40.000001 rounded up to 41.
  EXPECT_EQ(*ReduceWidth("_NEURON_2", 60, 3, 2, ""), 40);
  EXPECT_EQ(*ReduceWidth("_NEURON_2", 60, 6, 4, ""), 40) << "the same F as 6/4";
  EXPECT_EQ(*ReduceWidth("_NEURON_2", 61, 3, 2, ""), 41) << "40.67 rounds up";
  // Exactly 2 is allowed: v / F >= 2.
  EXPECT_EQ(*ReduceWidth("_NEURON_1", 3, 3, 2, ""), 2);
  EXPECT_EQ(*ReduceWidth("_NEURON_1", 7, 7, 2, ""), 2);
  EXPECT_EQ(*ReduceWidth("_NEURON_1", 10, 5, 1, ""), 2);
  EXPECT_FALSE(ReduceWidth("_NEURON_1", 9, 5, 1, "").ok()) << "9 / 5 = 1.8";
}

TEST(ReduceWidth, BelowTwoNamesVariableValueFactorAndHint) {
  const Result<int64_t> width = ReduceWidth("_NEURON_2", 4, 5, 2, "the largest n that works is 6");
  ASSERT_FALSE(width.ok()) << "4 / 2.5 = 1.6 < 2";
  EXPECT_EQ(width.status().code(), Status::Code::kInvalidArgument);
  const std::string& message = width.status().message();
  EXPECT_TRUE(Contains(message, "_NEURON_2 = 4")) << message;
  EXPECT_TRUE(Contains(message, "F = 2.5")) << message;
  EXPECT_TRUE(Contains(message, "gives 1.6")) << message;
  EXPECT_TRUE(Contains(message, "below the minimum width of 2")) << message;
  EXPECT_TRUE(Contains(message, "the largest n that works is 6")) << message;
}

// ---- Column blocks (regression) -------------------------------------------------------

TEST(ColumnBlocks, FirstBlocksTakeTheRemainder) {
  EXPECT_EQ(ColumnBlocks(784, 3), (std::vector<IndexRange>{{0, 262}, {262, 523}, {523, 784}}))
      << "784 = 262 + 261 + 261, contiguous";
  EXPECT_EQ(ColumnBlocks(784, 4),
            (std::vector<IndexRange>{{0, 196}, {196, 392}, {392, 588}, {588, 784}}))
      << "784 / 4 = 196 each";
  EXPECT_EQ(ColumnBlocks(5, 2), (std::vector<IndexRange>{{0, 3}, {3, 5}}));
}

// ---- Planning -------------------------------------------------------------------------

TEST(PlanDeconstruction, MulticlassUsesGOverTwo) {
  const Program program = Parse(kFashionMlp);
  const DeconstructionPlan plan = Plan(program, 4);
  EXPECT_EQ(plan.groups, 3);
  EXPECT_EQ(plan.subnets, 3);
  EXPECT_EQ(plan.factor_numerator, 3);
  EXPECT_EQ(plan.factor_denominator, 2);
  EXPECT_DOUBLE_EQ(plan.factor(), 1.5);
  ASSERT_EQ(plan.notes.size(), 1u) << "4 asked, 3 made: the user is told";
  EXPECT_TRUE(Contains(plan.notes[0], "4 subnets asked, 3 made")) << plan.notes[0];

  const DeconstructionPlan exact = Plan(program, 6);
  EXPECT_EQ(exact.groups, 4);
  EXPECT_EQ(exact.subnets, 6);
  EXPECT_DOUBLE_EQ(exact.factor(), 2.0);
  EXPECT_TRUE(exact.notes.empty()) << "n = 6 is triangular: nothing to tell";
}

TEST(PlanDeconstruction, MulticlassErrorNamesTheProgram) {
  const Result<DeconstructionPlan> plan = PlanDeconstruction(Parse(kFashionMlp), 2);
  ASSERT_FALSE(plan.ok());
  EXPECT_TRUE(Contains(plan.status().message(), "mlp.yaml: ")) << plan.status().message();
  EXPECT_TRUE(Contains(plan.status().message(), "3, 6, 10")) << plan.status().message();
}

TEST(PlanDeconstruction, BinaryIsAlwaysTwoSubnetsWithFTwo) {
  const Program program = Parse(kBinary, "binary.yaml");
  for (int64_t n : {2, 3, 10}) {
    const DeconstructionPlan plan = Plan(program, n);
    EXPECT_EQ(plan.subnets, 2) << "n=" << n;
    EXPECT_EQ(plan.factor_numerator, 2);
    EXPECT_EQ(plan.factor_denominator, 1);
    EXPECT_DOUBLE_EQ(plan.factor(), 2.0);
    if (n == 2) {
      EXPECT_TRUE(plan.notes.empty());
    } else {
      ASSERT_EQ(plan.notes.size(), 1u) << "n=" << n << " differs from 2: tell the user";
      EXPECT_TRUE(Contains(plan.notes[0],
                           "binary: always 2 subnets with F = 2 (" + std::to_string(n) + " asked)"))
          << plan.notes[0];
    }
  }
}

TEST(PlanDeconstruction, RegressionUsesKEqualsFEqualsN) {
  const Program program = Parse(kAutoencoder, "ae.yaml");
  for (int64_t n : {2, 3, 4, 7}) {
    const DeconstructionPlan plan = Plan(program, n);
    EXPECT_EQ(plan.subnets, n);
    EXPECT_EQ(plan.factor_numerator, n);
    EXPECT_EQ(plan.factor_denominator, 1);
    EXPECT_TRUE(plan.notes.empty());
  }
  const Result<DeconstructionPlan> one = PlanDeconstruction(program, 1);
  ASSERT_FALSE(one.ok()) << "regression needs n >= 2";
  EXPECT_EQ(one.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(one.status().message(), "ae.yaml: regression needs n >= 2 subnets (n=1"))
      << one.status().message();
}

TEST(OutputVariable, IsTheHighestNeuronIndexNotTheLastName) {
  Program program;
  program.vars = {{"_NEURON_2", 60}, {"_NEURON_10", 10}, {"_NEURON_9", 5}, {"_FILTERS_30", 3}};
  EXPECT_EQ(OutputVariable(program), "_NEURON_10") << "10 > 9 although '_NEURON_9' sorts later";
}

// ---- Whole programs -------------------------------------------------------------------

TEST(DeconstructProgram, SpecMlpAtNThreeIsThePublishedFigures) {
  const Program program = Parse(kFashionMlp);
  const std::vector<SubnetSpec> subnets = Deconstruct(program, 3, 60000);
  ASSERT_EQ(subnets.size(), 3u);
  const std::vector<std::vector<int64_t>> classes = {
      Iota(0, 7), {0, 1, 2, 3, 7, 8, 9}, Iota(4, 10)};
  const std::vector<int64_t> output_widths = {7, 7, 6};
  for (size_t i = 0; i < subnets.size(); ++i) {
    const SubnetSpec& subnet = subnets[i];
    SCOPED_TRACE("subnet " + std::to_string(i));
    EXPECT_EQ(subnet.index, static_cast<int>(i));
    EXPECT_EQ(subnet.classes, classes[i]);
    EXPECT_EQ(subnet.widths.at("_NEURON_1"), 86) << "128 / 1.5";
    EXPECT_EQ(subnet.widths.at("_NEURON_2"), 40) << "60 / 1.5";
    EXPECT_EQ(subnet.widths.at("_NEURON_3"), output_widths[i]) << "|S_i|, not ceil(10 / 1.5)";
    EXPECT_EQ(subnet.widths.at("_EPOCHS"), 7);
    EXPECT_EQ(subnet.epochs, 7) << "table: dense-only multiclass, 10 / 1.5 rounded up";
    EXPECT_FALSE(subnet.train.epochs.is_var());
    EXPECT_EQ(subnet.train.epochs.value, 7);
    EXPECT_EQ(subnet.half, -1);
    // The model itself is resolved.
    ASSERT_EQ(subnet.model.layers.size(), 4u);
    EXPECT_EQ(Units(subnet, 1), 86);
    EXPECT_EQ(Units(subnet, 2), 40);
    EXPECT_EQ(Units(subnet, 3), output_widths[i]);
    EXPECT_EQ(subnet.model.input_shape, (std::vector<int64_t>{28, 28})) << "input never changes";
    const int64_t parameters =
        (784 * 86 + 86) + (86 * 40 + 40) + (40 * output_widths[i] + output_widths[i]);
    EXPECT_EQ(subnet.parameter_bytes, 4 * parameters);
    EXPECT_EQ(subnet.train_samples, 60000 * static_cast<int64_t>(classes[i].size()) / 10)
        << "its classes' share of the samples";
    EXPECT_GT(subnet.cost, 0);
  }
}

TEST(DeconstructProgram, KeepPolicyKeepsEpochs) {
  const Program program =
      Parse(Replace(kFashionMlp, "epochs_policy: table", "epochs_policy: keep"));
  for (const SubnetSpec& subnet : Deconstruct(program, 3)) {
    EXPECT_EQ(subnet.epochs, 10) << "subnet " << subnet.index;
    EXPECT_EQ(subnet.widths.at("_EPOCHS"), 10);
    EXPECT_EQ(subnet.widths.at("_NEURON_1"), 86) << "widths are still reduced";
  }
}

TEST(DeconstructProgram, ConvNetKeepsEpochsUnderTheTableButReducesFilters) {
  const Program program = Parse(kMnistCnn, "cnn.yaml");
  const std::vector<SubnetSpec> subnets = Deconstruct(program, 4);
  ASSERT_EQ(subnets.size(), 3u);
  for (const SubnetSpec& subnet : subnets) {
    EXPECT_EQ(subnet.epochs, 3) << "the table reduces epochs only for dense-only nets";
    EXPECT_EQ(subnet.widths.at("_FILTERS_1"), 17) << "published 25 -> 17";
    EXPECT_EQ(subnet.widths.at("_FILTERS_2"), 43) << "published 64 -> 43";
    EXPECT_EQ(subnet.widths.at("_FILTERS_3"), 43);
    EXPECT_EQ(subnet.model.layers[1].numbers.at("filters")[0].value, 17);
    EXPECT_FALSE(subnet.model.layers[1].numbers.at("filters")[0].is_var());
  }
  // `reduce` overrides the table.
  const Program reduced =
      Parse(Replace(kMnistCnn, "epochs_policy: table", "epochs_policy: reduce"));
  for (const SubnetSpec& subnet : Deconstruct(reduced, 3)) {
    EXPECT_EQ(subnet.epochs, 2) << "3 / 1.5";
  }
}

TEST(DeconstructProgram, WidthBelowTwoNamesTheVariableAndTheLargestWorkingN) {
  // _NEURON_2 = 4 at n = 10 (g = 5, F = 2.5): 4 / 2.5 = 1.6. g <= 4 works: n = 6.
  const Program program = Parse(Replace(kFashionMlp, "_NEURON_2: 60", "_NEURON_2: 4"));
  const Result<std::vector<SubnetSpec>> subnets = DeconstructProgram(program, Plan(program, 10));
  ASSERT_FALSE(subnets.ok());
  EXPECT_EQ(subnets.status().code(), Status::Code::kInvalidArgument);
  const std::string& message = subnets.status().message();
  EXPECT_TRUE(Contains(message, "mlp.yaml: vars: _NEURON_2 = 4 divided by F = 2.5 gives 1.6"))
      << message;
  EXPECT_TRUE(Contains(message, "the largest n that works is 6")) << message;
  // And the advice holds.
  EXPECT_EQ(Deconstruct(program, 6).size(), 6u);
}

TEST(DeconstructProgram, SubnetSeedsDifferAndAreReproducible) {
  const Program program = Parse(kFashionMlp);
  const std::vector<SubnetSpec> first = Deconstruct(program, 6);
  const std::vector<SubnetSpec> second = Deconstruct(program, 6);
  ASSERT_EQ(first.size(), 6u);
  std::set<uint64_t> seeds;
  for (size_t i = 0; i < first.size(); ++i) {
    seeds.insert(first[i].seed);
    EXPECT_EQ(first[i].seed, second[i].seed) << "same program, same seeds";
  }
  EXPECT_EQ(seeds.size(), 6u) << "every subnet its own stream";

  const Program other = Parse(Replace(kFashionMlp, "seed: 42", "seed: 43"));
  EXPECT_NE(Deconstruct(other, 6)[0].seed, first[0].seed) << "the program seed matters";
}

TEST(DeconstructProgram, RegressionCutsOutputColumnsIntoBlocks) {
  const Program program = Parse(kAutoencoder, "ae.yaml");
  const std::vector<SubnetSpec> subnets = Deconstruct(program, 4, 1000);
  ASSERT_EQ(subnets.size(), 4u);
  for (size_t i = 0; i < subnets.size(); ++i) {
    const SubnetSpec& subnet = subnets[i];
    EXPECT_EQ(subnet.column_begin, 196 * static_cast<int64_t>(i));
    EXPECT_EQ(subnet.column_end, 196 * static_cast<int64_t>(i + 1));
    EXPECT_EQ(subnet.widths.at("_NEURON_2"), 196);
    EXPECT_EQ(Units(subnet, 2), 196);
    EXPECT_EQ(subnet.widths.at("_NEURON_1"), 32) << "128 / 4";
    EXPECT_EQ(subnet.widths.at("_EMBEDDING_1"), 8) << "32 / 4";
    EXPECT_EQ(subnet.epochs, 5) << "regression keeps epochs under the table";
    EXPECT_EQ(subnet.train_samples, 1000) << "every subnet sees all samples";
    EXPECT_TRUE(subnet.classes.empty());
  }
  const std::vector<SubnetSpec> three = Deconstruct(program, 3);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[0].widths.at("_NEURON_2"), 262);
  EXPECT_EQ(three[1].widths.at("_NEURON_2"), 261);
  EXPECT_EQ(three[2].column_begin, 523);
  EXPECT_EQ(three[2].column_end, 784);
}

TEST(DeconstructProgram, BinarySplitsTheSamplesIntoTwoHalves) {
  // Regression test (fixed bug): DeconstructProgram divides the binary output variable (always 2)
  // by F = 2 and refuses with '_NEURON_2 = 2 divided by F = 2 gives 1, below the minimum width of
  // 2': no binary program can be deconstructed
  const Program program = Parse(kBinary, "binary.yaml");
  const std::vector<SubnetSpec> subnets = Deconstruct(program, 2, 100);
  ASSERT_EQ(subnets.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(subnets[i].half, i);
    EXPECT_EQ(subnets[i].widths.at("_NEURON_2"), 2) << "the output layer keeps 2 units";
    EXPECT_EQ(Units(subnets[i], 1), 2);
    EXPECT_EQ(subnets[i].widths.at("_NEURON_1"), 8) << "16 / 2";
    EXPECT_EQ(subnets[i].epochs, 20) << "binary keeps epochs under the table";
    EXPECT_EQ(subnets[i].train_samples, 50);
  }
}

TEST(ResolveOriginal, KeepsEveryWidth) {
  const Program program = Parse(kFashionMlp);
  const Result<SubnetSpec> original = ResolveOriginal(program, 60000);
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  EXPECT_EQ(original->widths, program.vars);
  EXPECT_EQ(Units(*original, 1), 128);
  EXPECT_EQ(Units(*original, 2), 60);
  EXPECT_EQ(Units(*original, 3), 10);
  EXPECT_EQ(original->epochs, 10);
  EXPECT_EQ(original->classes, Iota(0, 10));
  EXPECT_EQ(original->seed, program.seed);
  EXPECT_EQ(original->train_samples, 60000);
  EXPECT_EQ(original->parameter_bytes, 4 * ((784 * 128 + 128) + (128 * 60 + 60) + (60 * 10 + 10)));
  // The deconstructed subnets are each cheaper than the original.
  for (const SubnetSpec& subnet : Deconstruct(program, 3, 60000)) {
    EXPECT_LT(subnet.cost, original->cost) << "subnet " << subnet.index;
  }
}

TEST(ResolveOriginal, RegressionCoversAllColumns) {
  const Result<SubnetSpec> original = ResolveOriginal(Parse(kAutoencoder, "ae.yaml"));
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  EXPECT_EQ(original->column_begin, 0);
  EXPECT_EQ(original->column_end, 784);
  EXPECT_EQ(original->epochs, 5);
}

}  // namespace
}  // namespace cloudbook
