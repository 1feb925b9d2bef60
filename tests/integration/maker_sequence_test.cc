// The sequence layers end to end: a real cloudbook-maker process deconstructs a Conv1D +
// pooling + GlobalAveragePooling1D network that reads Fashion-MNIST images as sequences of 28
// rows of 28 pixels (Keras input [steps, channels]) into 3 subnets, trains them with --local
// and composes them. A normalization layer adapted to the whole training x comes first.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "shared/json_io.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::ScratchDir;

constexpr char kSequenceProgram[] =
    R"(# Fashion-MNIST rows as sequences: Conv1D, pools, GlobalAveragePooling1D.
name: fashion_sequence
problem: multiclass
metrics: [accuracy, loss]
seed: 42
data:
  train:
    x: {format: idx, path: fashion-mnist/train-images-idx3-ubyte.gz, scale: 255}
    y: {format: idx, path: fashion-mnist/train-labels-idx1-ubyte.gz}
  test:
    x: {format: idx, path: fashion-mnist/t10k-images-idx3-ubyte.gz, scale: 255}
    y: {format: idx, path: fashion-mnist/t10k-labels-idx1-ubyte.gz}
  validation_split: 0.1
vars:
  _FILTERS_1: 32
  _FILTERS_2: 48
  _NEURON_1: 10
  _EPOCHS: 5
model:
  input: [28, 28]
  layers:
    - normalization
    - conv1d: {filters: _FILTERS_1, kernel: 3, padding: same, activation: relu}
    - maxpool1d: {pool: 2}
    - conv1d: {filters: _FILTERS_2, kernel: 3, padding: causal, activation: swish}
    - avgpool1d: {pool: 2, padding: same}
    - global_avgpool1d
    - dense: {units: _NEURON_1, activation: softmax}
train:
  optimizer: {adam: {lr: 0.002}}
  loss: sparse_categorical_crossentropy
  batch_size: 32
  epochs: _EPOCHS
)";

TEST(MakerSequence, Conv1dNetworkOnFashionRowsComposesFromThreeSubnets) {
  ScratchDir project;
  if (!testing::SetUpFashionMlpProject(project.path())) {
    GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
  }
  // The program replaces the MLP (one program per original/ folder).
  testing::WriteFile(project.Join("original/fashion_mlp.yaml"), kSequenceProgram);
  const testing::CommandResult run = testing::RunShellMerged(
      std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker -p " + project.path() +
      " --subnets 3 --train-limit 6000 --test-limit 2000 --local --baseline --threads 2 " +
      "--run-name sequence");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto results = ReadJsonFile(project.Join("distributed/results/sequence.json"));
  ASSERT_TRUE(results.ok()) << results.status().ToString() << "\n" << run.out;
  const Json& r = *results;
  ASSERT_EQ(r["subnets"].size(), 3u);
  EXPECT_EQ(r["subnets"][0]["widths"]["_FILTERS_1"].get<int>(), 22) << "ceil(32 / F), F = 1.5";
  const double composed = r["composed"]["metrics"]["accuracy"].get<double>();
  const double baseline = r["baseline"]["metrics"]["accuracy"].get<double>();
  EXPECT_GT(composed, 0.7) << "chance is 0.10\n" << run.out;
  EXPECT_GT(baseline, 0.7) << run.out;
  EXPECT_NEAR(composed, baseline, 0.05) << run.out;
  std::printf("composed accuracy %.4f, baseline %.4f\n", composed, baseline);
}

}  // namespace
}  // namespace cloudbook
