// The program's small DAG and the transformer layers without libtorch: `name`/`inputs` in the
// parser, the plan's checks (each names file:line and the layer), parameter counts against
// the figures Keras prints for the keras.io examples, DU files with and without the DAG words,
// and the deconstruction of residual blocks.
#include <gtest/gtest.h>

#include <string>

#include "maker/deconstruction.h"
#include "maker/program_parser.h"
#include "shared/model_plan.h"
#include "shared/subnet_spec.h"

namespace cloudbook {
namespace {

using Shape = std::vector<int64_t>;

// A program whose model has input `input` (and dtype) and the given layer lines; the first
// layer line is line 14 of the file.
std::string Program(const std::string& input, const std::string& layers,
                    const std::string& dtype = "float", const std::string& vars = "") {
  return R"(name: dag
problem: multiclass
data:
  train:
    x: {format: idx, path: x.idx}
    y: {format: idx, path: y.idx}
vars: {_NEURON_9: 3)" +
         vars + R"(}
model:
  input: )" +
         input +
         R"(
  input_dtype: )" +
         dtype +
         R"(
  layers:
)" + layers +
         R"(train:
  loss: sparse_categorical_crossentropy
  epochs: 1
)";
}

constexpr int kFirstLayerLine = 12;

Result<ModelPlan> Plan(const std::string& input, const std::string& layers,
                       const std::string& dtype = "float") {
  auto program = ParseProgramText(Program(input, layers, dtype), "dag.yaml");
  if (!program.ok()) return program.status();
  return PlanModel(program->model, "dag.yaml");
}

std::string PlanError(const std::string& input, const std::string& layers,
                      const std::string& dtype = "float") {
  auto plan = Plan(input, layers, dtype);
  EXPECT_FALSE(plan.ok()) << "planned:\n" << layers;
  return plan.ok() ? "" : plan.status().message();
}

::testing::AssertionResult Has(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << part << "' not in: " << text;
}

constexpr char kResidual[] =
    "    - dense: {units: 8, activation: relu, name: h}\n"
    "    - dense: {units: 8}\n"
    "    - add: {inputs: [h, previous], name: res}\n"
    "    - dense: {units: _NEURON_9, activation: softmax, inputs: [res]}\n";

TEST(ModelDag, AResidualBlockPlansWithItsInputs) {
  auto plan = Plan("[4]", kResidual);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_FALSE(plan->plain_list);
  EXPECT_EQ(plan->layers[0].inputs, (std::vector<int>{-1}));
  EXPECT_EQ(plan->layers[2].inputs, (std::vector<int>{0, 1}));
  EXPECT_EQ(plan->layers[2].input_shapes, (std::vector<Shape>{{8}, {8}}));
  EXPECT_EQ(plan->layers[2].output_shape, (Shape{8}));
  EXPECT_EQ(plan->layers[2].parameters, 0);
  EXPECT_EQ(plan->layers[2].spec.name, "res");
  EXPECT_EQ(plan->output_shape, (Shape{3}));
  // A plain list (names allowed, `previous` allowed) stays a plain list.
  auto plain = Plan("[4]",
                    "    - dense: {units: 8, name: a}\n"
                    "    - dense: {units: _NEURON_9, inputs: [previous]}\n");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_TRUE(plain->plain_list);
}

TEST(ModelDag, InputNamesTheModelInput) {
  auto plan = Plan("[8]",
                   "    - dense: {units: 8}\n"
                   "    - add: {inputs: [input, previous]}\n"
                   "    - dense: {units: _NEURON_9}\n");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->layers[1].inputs, (std::vector<int>{-1, 0}));
}

TEST(ModelDag, PlanErrorsNameTheFileLineAndLayer) {
  const std::string line2 = "dag.yaml:" + std::to_string(kFirstLayerLine + 1) + ": ";
  const std::string line3 = "dag.yaml:" + std::to_string(kFirstLayerLine + 2) + ": ";
  std::string error = PlanError("[4]",
                                "    - dense: {units: 8}\n"
                                "    - add: {inputs: [h, previous]}\n"
                                "    - dense: {units: _NEURON_9}\n");
  EXPECT_TRUE(Has(error, line2 + "model.layers[1] (add): inputs: no layer above is named 'h'"));

  error = PlanError("[4]",
                    "    - dense: {units: 8}\n"
                    "    - add: {inputs: [later, previous]}\n"
                    "    - dense: {units: _NEURON_9, name: later}\n");
  EXPECT_TRUE(Has(error, "'later' is the name of a later layer (model.layers[2])"));

  error = PlanError("[4]",
                    "    - dense: {units: 8, name: h}\n"
                    "    - dense: {units: 8, name: h}\n"
                    "    - dense: {units: _NEURON_9}\n");
  EXPECT_TRUE(Has(error, line2 +
                             "model.layers[1] (dense 'h'): name 'h' is already the name of "
                             "model.layers[0] (line " +
                             std::to_string(kFirstLayerLine) + ")"));

  error = PlanError("[4]",
                    "    - dense: {units: 8, name: h}\n"
                    "    - dense: {units: 6}\n"
                    "    - add: {inputs: [h, previous]}\n"
                    "    - dense: {units: _NEURON_9}\n");
  EXPECT_TRUE(Has(error, line3 + "model.layers[2] (add): adds tensors of the same shape, got [8] "
                                 "and [6]"));

  error = PlanError("[4]",
                    "    - dense: {units: 8}\n"
                    "    - add\n"
                    "    - dense: {units: _NEURON_9}\n");
  EXPECT_TRUE(Has(error, "add takes at least 2 inputs, got 1 input (give them as inputs: [a, b])"));

  error = PlanError("[4]",
                    "    - dense: {units: 8}\n"
                    "    - dense: {units: 8, inputs: [input, previous]}\n"
                    "    - dense: {units: _NEURON_9}\n");
  EXPECT_TRUE(Has(error, "dense takes 1 input, got 2 inputs"));

  // A branch nobody reads would change the model silently (Keras leaves it out).
  error = PlanError("[4]",
                    "    - dense: {units: 8, name: lost}\n"
                    "    - dense: {units: _NEURON_9, inputs: [input]}\n");
  EXPECT_TRUE(Has(error, "dag.yaml:" + std::to_string(kFirstLayerLine) +
                             ": model.layers[0] (dense 'lost'): no later layer reads its output"));
}

TEST(ModelDag, TheParserRefusesBadNamesAndInputs) {
  auto bad = [](const std::string& layers) {
    auto program = ParseProgramText(Program("[4]", layers), "dag.yaml");
    EXPECT_FALSE(program.ok()) << layers;
    return program.ok() ? std::string() : program.status().message();
  };
  EXPECT_TRUE(Has(bad("    - dense: {units: 4, name: previous}\n"), "'previous' is reserved"));
  EXPECT_TRUE(Has(bad("    - dense: {units: 4, name: input}\n"), "'input' is reserved"));
  EXPECT_TRUE(Has(bad("    - dense: {units: 4, name: 2h}\n"), "a layer name is a word"));
  EXPECT_TRUE(Has(bad("    - dense: {units: 4, inputs: h}\n"),
                  "dag.yaml:12: model.layers[0] (dense).inputs: expected a non-empty list"));
  EXPECT_TRUE(Has(bad("    - dense: {units: 4, inputs: []}\n"), "an empty list"));
}

// The keras.io text classification example (embed_dim 32, num_heads 2, ff_dim 32,
// maxlen 200, vocab_size 20000): Keras' model.summary() prints 646,400 parameters for
// TokenAndPositionEmbedding and 10,656 for TransformerBlock.
TEST(ModelDag, TransformerParameterCountsMatchKeras) {
  auto plan = Plan("[200]",
                   "    - token_position_embedding: {maxlen: 200, vocab_size: 20000, "
                   "embed_dim: 32}\n"
                   "    - transformer_block: {heads: 2, ff_dim: 32}\n"
                   "    - flatten\n"
                   "    - dense: {units: _NEURON_9}\n",
                   "int64");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->layers[0].parameters, 646400);
  EXPECT_EQ(plan->layers[0].output_shape, (Shape{200, 32}));
  EXPECT_EQ(plan->layers[1].parameters, 10656);
  EXPECT_GT(plan->layers[1].flops, 2.0 * 200 * 200 * 2 * 32);  // at least the scores
  EXPECT_FALSE(plan->dense_only);
  // The block's attention alone: MHA(num_heads=2, key_dim=32) on width 32 has 8,416.
  auto mha = Plan("[10, 32]",
                  "    - multihead_attention: {heads: 2, key_dim: 32}\n"
                  "    - flatten\n"
                  "    - dense: {units: _NEURON_9}\n");
  ASSERT_TRUE(mha.ok()) << mha.status().ToString();
  EXPECT_EQ(mha->layers[0].parameters, 8416);
  EXPECT_EQ(mha->layers[0].output_shape, (Shape{10, 32}));
}

TEST(ModelDag, AttentionTakesQueryValueAndKey) {
  // query (4, 6), value (5, 3), key (5, 2): output keeps the query's shape; parameters
  // q 6*2*5+10, k 2*2*5+10, v 3*2*7+14, o 2*7*6+6 (heads 2, key_dim 5, value_dim 7).
  auto plan = Plan("[4, 6]",
                   "    - dense: {units: 3, name: v}\n"  // stands in for another sequence
                   "    - dense: {units: 2, name: k, inputs: [input]}\n"
                   "    - reshape: {shape: [4, 2], name: k2}\n"
                   "    - multihead_attention: {heads: 2, key_dim: 5, value_dim: 7, "
                   "inputs: [input, v, k2]}\n"
                   "    - flatten\n"
                   "    - dense: {units: _NEURON_9}\n");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->layers[3].output_shape, (Shape{4, 6}));
  EXPECT_EQ(plan->layers[3].parameters, (60 + 10) + (20 + 10) + (42 + 14) + (84 + 6));
  auto no_bias = Plan("[4, 6]",
                      "    - multihead_attention: {heads: 2, key_dim: 5, use_bias: false}\n"
                      "    - flatten\n"
                      "    - dense: {units: _NEURON_9}\n");
  ASSERT_TRUE(no_bias.ok()) << no_bias.status().ToString();
  EXPECT_EQ(no_bias->layers[0].parameters, 3 * 60 + 60);
  EXPECT_TRUE(Has(PlanError("[6]",
                            "    - multihead_attention: {heads: 2, key_dim: 5}\n"
                            "    - dense: {units: _NEURON_9}\n"),
                  "needs a sequence (steps, features) (input shape [6])"));
}

TEST(ModelDag, VitLayersPlanPatchesInExtractPatchesShape) {
  auto plan = Plan("[28, 28, 1]",
                   "    - patches: {size: 7}\n"
                   "    - patch_encoder: {num_patches: 16, projection_dim: 24}\n"
                   "    - transformer_block: {heads: 2, ff_dim: 16}\n"
                   "    - layernorm: {epsilon: 0.000001}\n"
                   "    - flatten\n"
                   "    - dense: {units: _NEURON_9}\n");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->layers[0].output_shape, (Shape{16, 49}));
  EXPECT_EQ(plan->layers[1].parameters, 49 * 24 + 24 + 16 * 24);
  EXPECT_EQ(plan->layers[3].parameters, 48);
  // VALID drops partial patches: 30 x 29 with size 7 gives 4 x 4 patches.
  auto cropped = Plan("[30, 29, 3]",
                      "    - patches: {size: 7}\n"
                      "    - flatten\n"
                      "    - dense: {units: _NEURON_9}\n");
  ASSERT_TRUE(cropped.ok()) << cropped.status().ToString();
  EXPECT_EQ(cropped->layers[0].output_shape, (Shape{16, 147}));
  EXPECT_TRUE(Has(PlanError("[28, 28, 1]",
                            "    - patches: {size: 7}\n"
                            "    - patch_encoder: {num_patches: 15, projection_dim: 8}\n"
                            "    - flatten\n"
                            "    - dense: {units: _NEURON_9}\n"),
                  "num_patches is 15 but the input has 16 patches"));
  EXPECT_TRUE(Has(PlanError("[28, 28]",
                            "    - patches: {size: 7}\n"
                            "    - flatten\n"
                            "    - dense: {units: _NEURON_9}\n"),
                  "needs an image input"));
  EXPECT_TRUE(Has(PlanError("[12]",
                            "    - token_position_embedding: {maxlen: 10, vocab_size: 5, "
                            "embed_dim: 4}\n"
                            "    - flatten\n"
                            "    - dense: {units: _NEURON_9}\n",
                            "int64"),
                  "the input has 12 steps, more than maxlen 10 positions"));
}

TEST(ModelDag, DuFilesCarryNamesAndInputsAndOldFilesStillRead) {
  auto program = ParseProgramText(Program("[4]", kResidual), "dag.yaml");
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  const Json json = ToJson(program->model);
  EXPECT_EQ(json["layers"][0]["name"], "h");
  EXPECT_EQ(json["layers"][2]["inputs"], Json({"h", "previous"}));
  EXPECT_FALSE(json["layers"][1].contains("name")) << "only written when given";
  EXPECT_FALSE(json["layers"][1].contains("inputs"));
  auto back = ModelSpecFromJson(json, "du_0.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->layers.size(), 4u);
  EXPECT_EQ(back->layers[0].name, "h");
  EXPECT_EQ(back->layers[2].name, "res");
  EXPECT_EQ(back->layers[2].inputs, (std::vector<std::string>{"h", "previous"}));
  EXPECT_EQ(back->layers[3].inputs, (std::vector<std::string>{"res"}));
  EXPECT_EQ(ToJson(*back), json);

  // A DU file written before the DAG words: no name or inputs keys at all.
  const Json old = Json::parse(R"({"input": [4], "input_dtype": "float", "layers": [
      {"type": "dense", "numbers": {"units": [8]}, "words": {"activation": "relu"}},
      {"type": "dense", "numbers": {"units": [3]}, "words": {"activation": "softmax"}}]})");
  auto old_model = ModelSpecFromJson(old, "old_du.json");
  ASSERT_TRUE(old_model.ok()) << old_model.status().ToString();
  EXPECT_TRUE(old_model->layers[0].name.empty());
  EXPECT_TRUE(old_model->layers[1].inputs.empty());
  EXPECT_EQ(ToJson(*old_model), old) << "a plain list is written exactly as before";
  auto plan = PlanModel(*old_model, "old_du.json");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->plain_list);
}

// The deconstruction reduces tagged widths as before; an add of branches whose widths come
// from different tagged variables fails at make time, naming the layer and the cause.
TEST(ModelDag, DeconstructionOfResidualBlocks) {
  const std::string same =
      "    - dense: {units: _NEURON_1, activation: relu, name: h}\n"
      "    - dense: {units: _NEURON_1}\n"
      "    - add: {inputs: [h, previous]}\n"
      "    - dense: {units: _NEURON_9, activation: softmax}\n";
  auto program = ParseProgramText(Program("[4]", same, "float", ", _NEURON_1: 30"), "dag.yaml");
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  program->vars["_NEURON_9"] = 10;
  auto plan = PlanDeconstruction(*program, 3);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto subnets = DeconstructProgram(*program, *plan, 100);
  ASSERT_TRUE(subnets.ok()) << subnets.status().ToString();
  EXPECT_EQ((*subnets)[0].widths.at("_NEURON_1"), 20);
  EXPECT_EQ((*subnets)[0].model.layers[2].inputs, (std::vector<std::string>{"h", "previous"}));

  // The model input is never reduced: adding it to a tagged-width layer works in the
  // original (4 + 4) and not in the subnets (4 + 3).
  const std::string mixed =
      "    - dense: {units: _NEURON_1, activation: relu}\n"
      "    - add: {inputs: [input, previous]}\n"
      "    - dense: {units: _NEURON_9, activation: softmax}\n";
  program = ParseProgramText(Program("[4]", mixed, "float", ", _NEURON_1: 4"), "dag.yaml");
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  program->vars["_NEURON_9"] = 10;
  auto failed = DeconstructProgram(*program, *plan, 100);
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(Has(failed.status().message(),
                  "subnet 0 after reduction: dag.yaml:" + std::to_string(kFirstLayerLine + 1) +
                      ": model.layers[1] (add): adds tensors of the same shape, got [4] and [3]"));
  EXPECT_TRUE(Has(failed.status().message(), "the same tagged variable"));
}

}  // namespace
}  // namespace cloudbook
