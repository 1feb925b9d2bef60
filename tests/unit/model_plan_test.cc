// PlanModel: shape inference, parameter counts and FLOPs of a resolved layer list, without
// libtorch. The program speaks Keras (images H x W x C); the plan works channels-first
// (C x H x W), so every image shape below is written [C, H, W].
#include "shared/model_plan.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "maker/program_parser.h"

namespace cloudbook {
namespace {

using Shape = std::vector<int64_t>;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A resolved layer built by hand: every number a literal.
LayerSpec Layer(const std::string& type,
                const std::map<std::string, std::vector<double>>& numbers = {},
                const std::map<std::string, std::string>& words = {}) {
  LayerSpec layer;
  layer.type = type;
  for (const auto& [key, values] : numbers) {
    for (double v : values) layer.numbers[key].push_back(NumberOrVar{v, ""});
  }
  layer.words = words;
  return layer;
}

ModelSpec Model(Shape input, std::vector<LayerSpec> layers, std::string dtype = "float") {
  ModelSpec model;
  model.input_shape = std::move(input);
  model.input_dtype = std::move(dtype);
  model.layers = std::move(layers);
  return model;
}

ModelPlan PlanOk(const ModelSpec& model) {
  Result<ModelPlan> plan = PlanModel(model, "test.yaml");
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? std::move(plan).value() : ModelPlan();
}

std::string PlanError(const ModelSpec& model) {
  Result<ModelPlan> plan = PlanModel(model, "test.yaml");
  EXPECT_FALSE(plan.ok()) << "planned although it does not fit";
  if (plan.ok()) return "";
  EXPECT_EQ(plan.status().code(), Status::Code::kInvalidArgument);
  return plan.status().message();
}

// Parses a program (numbers may name variables: the parser keeps their values) and returns
// its model.
ModelSpec ParsedModel(const std::string& text) {
  Result<Program> program = ParseProgramText(text, "net.yaml");
  EXPECT_TRUE(program.ok()) << program.status().ToString();
  return program.ok() ? program->model : ModelSpec();
}

constexpr char kMlp[] = R"(name: mlp
problem: multiclass
data:
  train:
    x: {format: idx, path: x.idx}
    y: {format: idx, path: y.idx}
vars: {_NEURON_1: 10}
model:
  input: [28, 28]
  layers:
    - flatten
    - dense: {units: 128, activation: relu}
    - dropout: {rate: 0.2}
    - dense: {units: 60, activation: relu}
    - batchnorm
    - dense: {units: _NEURON_1, activation: softmax}
train:
  loss: sparse_categorical_crossentropy
  epochs: 1
)";

constexpr char kCnn[] = R"(name: cnn
problem: multiclass
data:
  train:
    x: {format: idx, path: x.idx}
    y: {format: idx, path: y.idx}
vars: {_NEURON_1: 10}
model:
  input: [784]
  layers:
    - reshape: {shape: [28, 28, 1]}
    - conv2d: {filters: 25, kernel: [3, 3], activation: relu}
    - maxpool2d: {pool: 2}
    - conv2d: {filters: 64, kernel: 3, stride: [1, 1], padding: same, activation: relu}
    - maxpool2d
    - conv2d: {filters: 64, kernel: [3, 3], activation: relu}
    - flatten
    - dense: {units: _NEURON_1, activation: softmax}
train:
  loss: sparse_categorical_crossentropy
  epochs: 1
)";

TEST(PlanModel, MlpShapesParametersAndFlops) {
  const ModelPlan plan = PlanOk(ParsedModel(kMlp));
  EXPECT_EQ(plan.input_shape, (Shape{28, 28}));
  EXPECT_FALSE(plan.input_channels_last) << "a rank-2 input is not an image";
  ASSERT_EQ(plan.layers.size(), 6u);
  const std::vector<Shape> outputs = {{784}, {128}, {128}, {60}, {60}, {10}};
  for (size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(plan.layers[i].output_shape, outputs[i]) << "layer " << i;
  }
  EXPECT_EQ(plan.layers[1].input_shape, (Shape{784}));
  EXPECT_EQ(plan.layers[1].parameters, 784 * 128 + 128);
  EXPECT_EQ(plan.layers[3].parameters, 128 * 60 + 60);
  EXPECT_EQ(plan.layers[4].parameters, 2 * 60) << "batchnorm: scale and shift";
  EXPECT_EQ(plan.layers[5].parameters, 60 * 10 + 10);
  EXPECT_EQ(plan.parameters, (784 * 128 + 128) + (128 * 60 + 60) + 2 * 60 + (60 * 10 + 10));
  EXPECT_DOUBLE_EQ(plan.layers[1].flops, 2.0 * 784 * 128) << "a multiply-add is 2 FLOPs";
  EXPECT_EQ(plan.output_shape, (Shape{10}));
  EXPECT_TRUE(plan.dense_only) << "dense, flatten, dropout and batchnorm only";
  EXPECT_FALSE(plan.int64_input);
}

TEST(PlanModel, TheSpecMlpHasItsTextbookParameterCount) {
  const ModelPlan plan =
      PlanOk(Model({784}, {Layer("dense", {{"units", {128}}}), Layer("dense", {{"units", {60}}}),
                           Layer("dense", {{"units", {10}}})}));
  EXPECT_EQ(plan.parameters, 784 * 128 + 128 + 128 * 60 + 60 + 60 * 10 + 10);
  EXPECT_EQ(plan.parameters, 108830);
  EXPECT_DOUBLE_EQ(plan.forward_flops, 2.0 * (784 * 128 + 128 * 60 + 60 * 10));
}

TEST(PlanModel, CnnWithReshapeWorksChannelsFirst) {
  const ModelPlan plan = PlanOk(ParsedModel(kCnn));
  ASSERT_EQ(plan.layers.size(), 8u);
  EXPECT_EQ(plan.input_shape, (Shape{784}));
  EXPECT_TRUE(plan.layers[0].to_channels_first) << "reshape [28, 28, 1] makes an image";
  EXPECT_EQ(plan.layers[0].output_shape, (Shape{1, 28, 28}));

  const PlannedLayer& conv1 = plan.layers[1];
  EXPECT_EQ(conv1.output_shape, (Shape{25, 26, 26})) << "valid 3x3: 28 - 3 + 1";
  EXPECT_EQ(conv1.parameters, 3 * 3 * 1 * 25 + 25);
  EXPECT_DOUBLE_EQ(conv1.flops, 2.0 * 26 * 26 * 25 * (3 * 3 * 1));
  EXPECT_TRUE(conv1.pads.empty()) << "valid padding";

  EXPECT_EQ(plan.layers[2].output_shape, (Shape{25, 13, 13})) << "maxpool 2 halves";
  const PlannedLayer& conv2 = plan.layers[3];
  EXPECT_EQ(conv2.output_shape, (Shape{64, 13, 13})) << "same padding, stride 1";
  EXPECT_EQ(conv2.pads, (Shape{1, 1, 1, 1}));
  EXPECT_EQ(conv2.parameters, 3 * 3 * 25 * 64 + 64);
  EXPECT_EQ(plan.layers[4].output_shape, (Shape{64, 6, 6})) << "floor(13 / 2)";
  EXPECT_EQ(plan.layers[5].output_shape, (Shape{64, 4, 4}));
  EXPECT_EQ(plan.layers[6].output_shape, (Shape{64 * 4 * 4})) << "flatten";
  EXPECT_EQ(plan.layers[7].parameters, 1024 * 10 + 10);
  EXPECT_EQ(plan.parameters, 250 + 14464 + 36928 + 10250);
  EXPECT_EQ(plan.output_shape, (Shape{10}));
  EXPECT_FALSE(plan.dense_only) << "a conv net";
}

TEST(PlanModel, ImageInputIsPermutedOnce) {
  const ModelPlan plan = PlanOk(
      Model({28, 28, 1}, {Layer("conv2d", {{"filters", {8}}, {"kernel", {3}}}), Layer("flatten")}));
  EXPECT_TRUE(plan.input_channels_last);
  EXPECT_EQ(plan.input_shape, (Shape{1, 28, 28}));
  EXPECT_FALSE(plan.layers[0].to_channels_first) << "only a reshape permutes";
  EXPECT_EQ(plan.layers[0].output_shape, (Shape{8, 26, 26}));
  EXPECT_EQ(plan.output_shape, (Shape{8 * 26 * 26}));
}

TEST(PlanModel, SamePaddingWithStrideTwo) {
  const ModelPlan plan = PlanOk(Model(
      {26, 26, 1},
      {Layer("conv2d", {{"filters", {8}}, {"kernel", {3}}, {"stride", {2}}}, {{"padding", "same"}}),
       Layer("conv2d", {{"filters", {4}}, {"kernel", {3}}, {"stride", {2, 2}}},
             {{"padding", "same"}}),
       Layer("maxpool2d", {{"pool", {2}}}), Layer("global_avgpool2d")}));
  // out = ceil(in / stride); total padding (out - 1) * stride + kernel - in, the odd pixel
  // at the bottom / right as in TensorFlow.
  EXPECT_EQ(plan.layers[0].output_shape, (Shape{8, 13, 13})) << "ceil(26 / 2)";
  EXPECT_EQ(plan.layers[0].pads, (Shape{0, 1, 0, 1})) << "12 * 2 + 3 - 26 = 1";
  EXPECT_EQ(plan.layers[1].output_shape, (Shape{4, 7, 7})) << "ceil(13 / 2)";
  EXPECT_EQ(plan.layers[1].pads, (Shape{1, 1, 1, 1})) << "6 * 2 + 3 - 13 = 2";
  EXPECT_EQ(plan.layers[1].parameters, 3 * 3 * 8 * 4 + 4);
  EXPECT_EQ(plan.layers[2].output_shape, (Shape{4, 3, 3})) << "floor(7 / 2)";
  EXPECT_EQ(plan.layers[3].output_shape, (Shape{4})) << "global average pool keeps channels";
  EXPECT_EQ(plan.layers[3].parameters, 0);
  EXPECT_EQ(plan.output_shape, (Shape{4}));
  EXPECT_FALSE(plan.dense_only);
}

TEST(PlanModel, PoolsHalveAndStrideDefaultsToThePool) {
  const ModelPlan plan = PlanOk(
      Model({32, 32, 3}, {Layer("maxpool2d", {{"pool", {2}}}), Layer("avgpool2d", {{"pool", {4}}}),
                          Layer("maxpool2d", {{"pool", {2}}, {"stride", {1}}})}));
  EXPECT_EQ(plan.layers[0].output_shape, (Shape{3, 16, 16}));
  EXPECT_EQ(plan.layers[1].output_shape, (Shape{3, 4, 4}));
  EXPECT_EQ(plan.layers[2].output_shape, (Shape{3, 3, 3})) << "pool 2 stride 1: 4 - 2 + 1";
  EXPECT_EQ(plan.parameters, 0) << "pools have no parameters";
}

TEST(PlanModel, ReshapeInfersMinusOne) {
  const ModelPlan plan = PlanOk(Model({784}, {Layer("reshape", {{"shape", {-1, 28, 1}}}),
                                              Layer("reshape", {{"shape", {28, 28}}})}));
  EXPECT_EQ(plan.layers[0].output_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(plan.layers[1].output_shape, (Shape{28, 28}));
}

TEST(PlanModel, ConvOnAFlatInputSuggestsAReshape) {
  ModelSpec model = Model({784}, {Layer("conv2d", {{"filters", {8}}, {"kernel", {3}}})});
  model.layers[0].line = 12;
  const std::string message = PlanError(model);
  EXPECT_TRUE(Contains(message, "test.yaml:12: model.layers[0] (conv2d): needs an image input"))
      << message;
  EXPECT_TRUE(Contains(message, "(input shape [784])")) << message;
  EXPECT_TRUE(Contains(message, "add a reshape such as [28, 28, 1] before it")) << message;
}

TEST(PlanModel, WindowLargerThanTheImageIsAnError) {
  const std::string conv = PlanError(
      Model({5, 5, 1}, {Layer("conv2d", {{"filters", {8}}, {"kernel", {7}}}), Layer("flatten")}));
  EXPECT_TRUE(Contains(conv,
                       "model.layers[0] (conv2d): window [7, 7] is larger than the image "
                       "(input shape [1, 5, 5])"))
      << conv;
  // 8 -> 4 -> 2 -> 1: a fourth 2x2 pool does not fit.
  const std::string pool = PlanError(Model(
      {8, 8, 1}, {Layer("maxpool2d"), Layer("maxpool2d"), Layer("maxpool2d"), Layer("maxpool2d")}));
  EXPECT_TRUE(Contains(pool, "model.layers[3] (maxpool2d): window [2, 2] is larger than the image"))
      << pool;
}

TEST(PlanModel, ReshapeCountMismatchIsAnError) {
  const std::string message =
      PlanError(Model({784}, {Layer("reshape", {{"shape", {28, 27, 1}}}), Layer("flatten")}));
  EXPECT_TRUE(Contains(message, "cannot reshape [784] (784 values) into [28, 27, 1]")) << message;
  const std::string inferred =
      PlanError(Model({784}, {Layer("reshape", {{"shape", {-1, 5}}}), Layer("flatten")}));
  EXPECT_TRUE(Contains(inferred, "cannot reshape [784]"))
      << "784 is not a multiple of 5: " << inferred;
}

TEST(PlanModel, EmbeddingAndRecurrentShapes) {
  const ModelPlan plan =
      PlanOk(Model({200},
                   {Layer("embedding", {{"input_dim", {10000}}, {"output_dim", {64}}}),
                    Layer("lstm", {{"units", {32}}}, {{"return_sequences", "true"}}),
                    Layer("gru", {{"units", {16}}}), Layer("dense", {{"units", {2}}})},
                   "int64"));
  EXPECT_TRUE(plan.int64_input);
  EXPECT_EQ(plan.layers[0].output_shape, (Shape{200, 64}));
  EXPECT_EQ(plan.layers[0].parameters, 10000 * 64);
  EXPECT_EQ(plan.layers[1].output_shape, (Shape{200, 32})) << "the whole sequence";
  EXPECT_EQ(plan.layers[1].parameters, 4 * (64 * 32 + 32 * 32 + 2 * 32)) << "4 LSTM gates";
  EXPECT_EQ(plan.layers[2].output_shape, (Shape{16})) << "the last step only";
  EXPECT_EQ(plan.layers[2].parameters, 3 * (32 * 16 + 16 * 16 + 2 * 16)) << "3 GRU gates";
  EXPECT_EQ(plan.layers[3].output_shape, (Shape{2}));
  EXPECT_FALSE(plan.dense_only);
}

TEST(PlanModel, TokenInputNeedsAnEmbeddingAndViceVersa) {
  const std::string no_embedding =
      PlanError(Model({200}, {Layer("dense", {{"units", {2}}})}, "int64"));
  EXPECT_TRUE(Contains(no_embedding, "needs an embedding as the first layer")) << no_embedding;
  const std::string float_tokens =
      PlanError(Model({200}, {Layer("embedding", {{"input_dim", {100}}, {"output_dim", {8}}})}));
  EXPECT_TRUE(Contains(float_tokens, "set model.input_dtype: int64")) << float_tokens;
  const std::string flat_gru = PlanError(Model({784}, {Layer("gru", {{"units", {8}}})}));
  EXPECT_TRUE(Contains(flat_gru, "needs a sequence (steps, features) (input shape [784])"))
      << flat_gru;
}

TEST(PlanModel, EmptyOrBadInputIsAnError) {
  EXPECT_TRUE(Contains(PlanError(Model({}, {Layer("flatten")})), "model.input"));
  EXPECT_TRUE(Contains(PlanError(Model({28, 0}, {Layer("flatten")})), "model.input"));
  EXPECT_TRUE(Contains(PlanError(Model({10}, {})), "model.layers is empty"));
  EXPECT_TRUE(Contains(PlanError(Model({10}, {Layer("dropout", {{"rate", {1}}})})),
                       "rate must be in [0, 1)"));
}

TEST(PlanModel, DenseOnAnImageActsOnChannelsAsInKeras) {
  // Regression test (fixed bug): PlanModel applies dense to the last axis of the internal
  // channels-first shape, i.e. to the image width, not to the channels as Keras does (or
  // refusing)
  // Keras: Dense(10) on (H=4, W=5, C=3) gives (4, 5, 10) with 3 * 10 + 10 parameters;
  // channels-first that is [10, 4, 5]. Refusing the layer would also be acceptable.
  const Result<ModelPlan> plan =
      PlanModel(Model({4, 5, 3}, {Layer("dense", {{"units", {10}}})}), "test.yaml");
  if (!plan.ok()) return;
  EXPECT_EQ(plan->layers[0].output_shape, (Shape{10, 4, 5}));
  EXPECT_EQ(plan->layers[0].parameters, 3 * 10 + 10);
}

TEST(ShapeToString, ListsTheSizes) {
  EXPECT_EQ(ShapeToString({}), "[]");
  EXPECT_EQ(ShapeToString({28, 28, 1}), "[28, 28, 1]");
}

}  // namespace
}  // namespace cloudbook
