// PlanModel on the layers of issue 17 (shared/model_plan_1d.h): conv1d, the 1-D pools, the
// global pools, normalization and the activation layer: shapes as Keras computes them (TF
// 'same' padding: output ceil(L / stride), the extra padding cell at the end; 'causal' pads
// dilation * (kernel - 1) in front), parameter counts as Keras' summary shows them, FLOPs, and
// errors that name the file, line and layer. Sequences are [steps, channels].
#include "shared/model_plan_1d.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "maker/program_parser.h"

namespace cloudbook {
namespace {

using Shape = std::vector<int64_t>;

// A program with `layers` (YAML list items) between `input` and a dense softmax output.
std::string ProgramText(const std::string& input, const std::string& layers) {
  return R"(name: seq
problem: multiclass
data:
  train:
    x: {format: idx, path: x.idx}
    y: {format: idx, path: y.idx}
vars: {_NEURON_1: 10}
model:
  input: )" +
         input + R"(
  layers:
)" + layers +
         R"(    - dense: {units: _NEURON_1, activation: softmax}
train:
  loss: sparse_categorical_crossentropy
  epochs: 1
)";
}

Result<ModelPlan> PlanText(const std::string& input, const std::string& layers) {
  Result<Program> program = ParseProgramText(ProgramText(input, layers), "seq.yaml");
  if (!program.ok()) return program.status();
  return PlanModel(program->model, "seq.yaml");
}

std::string Error(const std::string& input, const std::string& layers) {
  Result<ModelPlan> plan = PlanText(input, layers);
  EXPECT_FALSE(plan.ok()) << "planned although it is wrong";
  return plan.ok() ? "" : plan.status().message();
}

TEST(PlanModel1d, Conv1dPoolsAndGlobalPoolsFollowKeras) {
  Result<ModelPlan> plan =
      PlanText("[28, 28]",
               "    - conv1d: {filters: 32, kernel: 3, activation: relu}\n"
               "    - maxpool1d\n"
               "    - conv1d: {filters: 16, kernel: 5, stride: 2, padding: same}\n"
               "    - avgpool1d: {pool: 3, padding: same}\n"
               "    - conv1d: {filters: 8, kernel: 2, dilation: 2, padding: causal}\n"
               "    - global_avgpool1d\n");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const auto& layers = plan->layers;
  EXPECT_EQ(layers[0].output_shape, (Shape{26, 32}));  // 28 - 3 + 1
  EXPECT_EQ(layers[0].parameters, 3 * 28 * 32 + 32);   // Keras summary: 2720
  EXPECT_DOUBLE_EQ(layers[0].flops, 2.0 * 26 * 32 * 3 * 28);
  EXPECT_EQ(layers[1].output_shape, (Shape{13, 32}));  // stride defaults to the pool
  EXPECT_DOUBLE_EQ(layers[1].flops, 13.0 * 32 * 2);
  EXPECT_EQ(layers[2].output_shape, (Shape{7, 16}));  // ceil(13 / 2)
  EXPECT_EQ(layers[2].pads, (Shape{2, 2}));           // (7 - 1) * 2 + 5 - 13 = 4
  EXPECT_EQ(layers[2].parameters, 5 * 32 * 16 + 16);
  EXPECT_EQ(layers[3].output_shape, (Shape{3, 16}));  // ceil(7 / 3)
  EXPECT_EQ(layers[3].pads, (Shape{1, 1}));           // (3 - 1) * 3 + 3 - 7 = 2
  EXPECT_EQ(layers[4].output_shape, (Shape{3, 8}));
  EXPECT_EQ(layers[4].pads, (Shape{2, 0}));  // causal: dilation * (kernel - 1) in front
  EXPECT_EQ(layers[5].output_shape, (Shape{8}));
  EXPECT_EQ(layers[6].parameters, 8 * 10 + 10);
  EXPECT_FALSE(plan->dense_only);
}

TEST(PlanModel1d, SamePaddingPutsTheExtraCellAtTheEnd) {
  EXPECT_EQ(SamePadding(7, 4, 3, 1), (Shape{1, 2}));  // out 3: (3 - 1) * 3 + 4 - 7 = 3
  EXPECT_EQ(SamePadding(5, 2, 1, 1), (Shape{0, 1}));
  EXPECT_EQ(SamePadding(7, 3, 1, 2), (Shape{2, 2}));  // span 5
  EXPECT_EQ(SamePadding(8, 2, 2, 1), (Shape{0, 0}));
}

TEST(PlanModel1d, GlobalMaxPool2dNormalizationAndActivation) {
  Result<ModelPlan> plan = PlanText("[28, 28]",
                                    "    - reshape: {shape: [28, 28, 1]}\n"
                                    "    - normalization\n"
                                    "    - conv2d: {filters: 4, kernel: 3}\n"
                                    "    - activation: {activation: swish}\n"
                                    "    - global_maxpool2d\n"
                                    "    - dense: {units: 5, activation: selu}\n"
                                    "    - activation: {activation: relu6}\n");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const auto& layers = plan->layers;
  EXPECT_EQ(layers[1].output_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(layers[1].parameters, 0) << "not trainable";
  EXPECT_DOUBLE_EQ(layers[1].flops, 2.0 * 28 * 28);
  EXPECT_EQ(layers[4].output_shape, (Shape{4}));
  EXPECT_EQ(NormalizationChannels(layers[1].input_shape), 1);
  EXPECT_EQ(NormalizationChannels(Shape{20, 3}), 3);
  EXPECT_EQ(NormalizationChannels(Shape{3, 8, 8}), 3);

  Result<ModelPlan> dense = PlanText("[28, 28]",
                                     "    - normalization\n"
                                     "    - flatten\n"
                                     "    - dense: {units: 32}\n"
                                     "    - activation: {activation: softplus}\n");
  ASSERT_TRUE(dense.ok()) << dense.status().ToString();
  EXPECT_TRUE(dense->dense_only) << "normalization and activation keep a net dense-only";
}

TEST(PlanModel1d, ErrorsNameFileLineAndLayer) {
  // Line 11 is the first layer of ProgramText().
  EXPECT_EQ(Error("[784]", "    - conv1d: {filters: 4, kernel: 3}\n"),
            "seq.yaml:11: model.layers[0] (conv1d): needs a sequence (steps, channels) (input "
            "shape [784]); add a reshape such as [28, 28] before it");
  EXPECT_EQ(Error("[10, 2]", "    - conv1d: {filters: 4, kernel: 2, stride: 2, dilation: 2}\n"),
            "seq.yaml:11: model.layers[0] (conv1d): stride > 1 together with dilation > 1 (Keras "
            "refuses it)");
  EXPECT_EQ(Error("[5, 2]", "    - conv1d: {filters: 4, kernel: 3, dilation: 3}\n"),
            "seq.yaml:11: model.layers[0] (conv1d): kernel span 7 is longer than the sequence "
            "(input shape [5, 2])");
  EXPECT_EQ(Error("[5, 2]", "    - flatten\n    - maxpool1d: {pool: 6}\n"),
            "seq.yaml:12: model.layers[1] (maxpool1d): needs a sequence (steps, channels) (input "
            "shape [10]); add a reshape such as [28, 28] before it");
  EXPECT_EQ(Error("[5, 2]", "    - avgpool1d: {pool: 6}\n"),
            "seq.yaml:11: model.layers[0] (avgpool1d): pool 6 is longer than the sequence (input "
            "shape [5, 2])");
  EXPECT_EQ(Error("[5, 2]", "    - global_maxpool2d\n"),
            "seq.yaml:11: model.layers[0] (global_maxpool2d): needs an image input (input shape "
            "[5, 2])");
  EXPECT_EQ(Error("[5]", "    - global_avgpool1d\n"),
            "seq.yaml:11: model.layers[0] (global_avgpool1d): needs a sequence (steps, channels) "
            "(input shape [5])");
  EXPECT_EQ(Error("[5, 2]", "    - dense: {units: 3}\n    - normalization\n"),
            "seq.yaml:12: model.layers[1] (normalization): adapts to the training x, so only "
            "reshape and flatten may come before it (found dense)");
  EXPECT_EQ(Error("[5, 2]", "    - conv1d: {filters: 4, kernel: 1073741824, padding: same}\n"),
            "seq.yaml:11: model.layers[0] (conv1d): steps, filters, kernel, pool, stride and "
            "dilation must be below 2^30");
  // Words the parser checks: causal is for conv1d only; the activation layer needs its word.
  const std::string causal = Error("[5, 2]", "    - maxpool1d: {padding: causal}\n");
  EXPECT_NE(causal.find("seq.yaml:11"), std::string::npos) << causal;
  EXPECT_NE(causal.find("causal"), std::string::npos) << causal;
  const std::string missing = Error("[5, 2]", "    - activation\n");
  EXPECT_NE(missing.find("seq.yaml:11"), std::string::npos) << missing;
  EXPECT_NE(missing.find("activation"), std::string::npos) << missing;
  const std::string unknown = Error("[5, 2]", "    - activation: {activation: mish}\n");
  EXPECT_NE(unknown.find("swish"), std::string::npos) << "lists the valid words: " << unknown;
}

}  // namespace
}  // namespace cloudbook
