#include "maker/program_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace cloudbook {
namespace {

// The example of docs/design/program.md, verbatim.
const std::string kFashionMlp = testing::SpecFashionMlpProgram();

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
    - conv2d:
        filters: _FILTERS_2
        kernel: 3
        stride: [1, 1]
        padding: same
        activation: relu
    - maxpool2d
    - conv2d: {filters: _FILTERS_3, kernel: [3, 3], activation: relu}
    - flatten
    - dense: {units: _NEURON_1, activation: softmax}
train:
  optimizer: {sgd: {lr: 0.05, momentum: 0.9}}
  loss: sparse_categorical_crossentropy
  epochs: _EPOCHS
  epochs_policy: keep
)";

// 1-based line of the first occurrence of `needle` in `text` (0 when absent).
int LineOf(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  if (at == std::string::npos) return 0;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

// `text` with the single occurrence of `from` replaced by `to`.
std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "not in the base program: " << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << "ambiguous: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

Program ParseOk(const std::string& text, const std::string& source = "good.yaml") {
  Result<Program> program = ParseProgramText(text, source);
  EXPECT_TRUE(program.ok()) << program.status().ToString();
  return program.ok() ? std::move(program).value() : Program();
}

std::string ParseError(const std::string& text, const std::string& source = "bad.yaml") {
  Result<Program> program = ParseProgramText(text, source);
  EXPECT_FALSE(program.ok()) << "parsed although malformed:\n" << text;
  if (program.ok()) return "";
  EXPECT_EQ(program.status().code(), Status::Code::kInvalidArgument);
  return program.status().message();
}

TEST(ProgramParser, SpecExampleParses) {
  const Program p = ParseOk(kFashionMlp);
  EXPECT_EQ(p.name, "fashion_mlp");
  EXPECT_EQ(p.problem, ProblemType::kMulticlass);
  EXPECT_EQ(p.metrics, (std::vector<std::string>{"accuracy", "loss"}));
  EXPECT_EQ(p.seed, 42u);
  EXPECT_EQ(p.source_path, "good.yaml");

  EXPECT_EQ(p.data.train.x.format, "idx");
  EXPECT_EQ(p.data.train.x.path, "fashion-mnist/train-images-idx3-ubyte.gz");
  EXPECT_DOUBLE_EQ(p.data.train.x.scale, 255);
  EXPECT_DOUBLE_EQ(p.data.train.y.scale, 1);
  ASSERT_TRUE(p.data.test.has_value());
  EXPECT_EQ(p.data.test->y.path, "fashion-mnist/t10k-labels-idx1-ubyte.gz");
  EXPECT_DOUBLE_EQ(p.data.validation_split, 0.1);
  EXPECT_EQ(p.data.train_limit, 0);

  EXPECT_EQ(p.vars,
            (std::map<std::string, int64_t>{
                {"_NEURON_1", 128}, {"_NEURON_2", 60}, {"_NEURON_3", 10}, {"_EPOCHS", 10}}));

  EXPECT_EQ(p.model.input_shape, (std::vector<int64_t>{28, 28}));
  EXPECT_EQ(p.model.input_dtype, "float");
  ASSERT_EQ(p.model.layers.size(), 4u);
  EXPECT_EQ(p.model.layers[0].type, "flatten");
  EXPECT_TRUE(p.model.layers[0].numbers.empty());
  EXPECT_EQ(p.model.layers[0].line, LineOf(kFashionMlp, "- flatten"));
  const LayerSpec& hidden = p.model.layers[1];
  EXPECT_EQ(hidden.type, "dense");
  ASSERT_EQ(hidden.numbers.at("units").size(), 1u);
  EXPECT_EQ(hidden.numbers.at("units")[0].var, "_NEURON_1");
  EXPECT_TRUE(hidden.numbers.at("units")[0].is_var());
  EXPECT_EQ(hidden.words.at("activation"), "relu");
  EXPECT_EQ(hidden.line, LineOf(kFashionMlp, "units: _NEURON_1"));
  EXPECT_EQ(p.model.layers[3].numbers.at("units")[0].var, "_NEURON_3");
  EXPECT_EQ(p.model.layers[3].words.at("activation"), "softmax");

  EXPECT_EQ(p.train.optimizer, "adam");
  EXPECT_DOUBLE_EQ(p.train.learning_rate, 0.001);
  EXPECT_EQ(p.train.loss, "sparse_categorical_crossentropy");
  EXPECT_EQ(p.train.batch_size, 32);
  EXPECT_EQ(p.train.epochs.var, "_EPOCHS");
  EXPECT_EQ(p.train.epochs_policy, EpochsPolicy::kTable);
}

TEST(ProgramParser, CnnParsesWithDefaults) {
  const Program p = ParseOk(kMnistCnn);
  ASSERT_EQ(p.model.layers.size(), 8u);
  EXPECT_EQ(p.model.input_shape, (std::vector<int64_t>{784}));
  EXPECT_FALSE(p.data.test.has_value());
  EXPECT_EQ(p.seed, 42u);  // default
  EXPECT_EQ(p.metrics, (std::vector<std::string>{"accuracy", "loss"}));

  const LayerSpec& reshape = p.model.layers[0];
  ASSERT_EQ(reshape.numbers.at("shape").size(), 3u);
  EXPECT_EQ(reshape.numbers.at("shape")[0].value, 28);
  EXPECT_EQ(reshape.numbers.at("shape")[2].value, 1);
  EXPECT_FALSE(reshape.numbers.at("shape")[2].is_var());

  const LayerSpec& conv = p.model.layers[1];
  EXPECT_EQ(conv.type, "conv2d");
  EXPECT_EQ(conv.numbers.at("filters")[0].var, "_FILTERS_1");
  EXPECT_EQ(conv.numbers.at("filters")[0].value, 25);  // the unreduced value
  ASSERT_EQ(conv.numbers.at("kernel").size(), 2u);
  EXPECT_EQ(conv.numbers.at("kernel")[1].value, 3);
  EXPECT_EQ(conv.numbers.at("stride")[0].value, 1);  // default
  EXPECT_EQ(conv.words.at("padding"), "valid");      // default

  const LayerSpec& block = p.model.layers[3];  // the block-style mapping
  EXPECT_EQ(block.numbers.at("kernel").size(), 1u);
  EXPECT_EQ(block.numbers.at("stride").size(), 2u);
  EXPECT_EQ(block.words.at("padding"), "same");
  EXPECT_EQ(block.line, LineOf(kMnistCnn, "- conv2d:\n"));

  EXPECT_EQ(p.model.layers[2].type, "maxpool2d");
  EXPECT_EQ(p.model.layers[2].numbers.at("pool")[0].value, 2);
  EXPECT_EQ(p.model.layers[2].numbers.at("stride")[0].value, 2);  // defaults to the pool
  EXPECT_EQ(p.model.layers[4].numbers.at("pool")[0].value, 2);    // bare `- maxpool2d`
  EXPECT_EQ(p.model.layers[6].type, "flatten");
  EXPECT_EQ(p.model.layers[7].numbers.at("units")[0].var, "_NEURON_1");

  EXPECT_EQ(p.train.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(p.train.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(p.train.momentum, 0.9);
  EXPECT_EQ(p.train.batch_size, 32);  // default
  EXPECT_EQ(p.train.epochs_policy, EpochsPolicy::kKeep);
}

TEST(ProgramParser, CnnUnknownParameterNamesTheValidOnes) {
  const std::string text = Replace(kMnistCnn, "{filters: _FILTERS_1,", "{filter: _FILTERS_1,");
  const std::string expected =
      "bad.yaml:" + std::to_string(LineOf(text, "filter:")) +
      ": model.layers[1] (conv2d): unknown parameter 'filter'; valid: "
      "filters, kernel, stride, padding, activation, name, inputs; did you mean "
      "'filters'?";
  EXPECT_EQ(ParseError(text), expected);
}

TEST(ProgramParser, RegressionAutoencoderWithSameAsX) {
  const std::string text = R"(name: mnist_autoencoder
problem: regression
data:
  train:
    x: {format: idx, path: mnist/train-images-idx3-ubyte.gz, scale: 255}
    y: same_as_x
  test:
    x: {format: csv, path: test.csv, columns: [pixel1, 2], header: false, delimiter: ";"}
    y: {same_as: x}
  train_limit: 1000
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
  epochs: 5
)";
  const Program p = ParseOk(text);
  EXPECT_EQ(p.problem, ProblemType::kRegression);
  EXPECT_EQ(p.metrics, (std::vector<std::string>{"mse", "mae"}));
  EXPECT_EQ(p.data.train.y.format, "same_as_x");
  ASSERT_TRUE(p.data.test.has_value());
  EXPECT_EQ(p.data.test->y.format, "same_as_x");
  EXPECT_EQ(p.data.test->x.columns, (std::vector<std::string>{"pixel1", "2"}));
  EXPECT_FALSE(p.data.test->x.header);
  EXPECT_EQ(p.data.test->x.delimiter, ';');
  EXPECT_EQ(p.data.train_limit, 1000);
  EXPECT_EQ(p.model.input_shape, (std::vector<int64_t>{784}));
  EXPECT_EQ(p.model.layers[1].numbers.at("units")[0].var, "_EMBEDDING_1");
  EXPECT_FALSE(p.train.epochs.is_var());
  EXPECT_EQ(p.train.epochs.value, 5);
  EXPECT_DOUBLE_EQ(p.train.learning_rate, 0.001);
}

constexpr char kBinary[] = R"(name: binary-net.v1
problem: binary
metrics: [accuracy]
seed: 7
data:
  train:
    x: {format: csv, path: data/train.csv, columns: [a, b, c]}
    y: {format: csv, path: data/train.csv, columns: [label]}
vars:
  _NEURON_1: 16
  _NEURON_2: 2
model:
  input: [3]
  layers:
    - dense: {units: _NEURON_1, activation: tanh}
    - dropout: {rate: 0.2}
    - batchnorm
    - dense: {units: _NEURON_2, activation: softmax}
train:
  optimizer: sgd
  loss: sparse_categorical_crossentropy
  batch_size: 8
  epochs: 20
  epochs_policy: reduce
)";

TEST(ProgramParser, BinaryWithPlainOptimizer) {
  const Program p = ParseOk(kBinary);
  EXPECT_EQ(p.name, "binary-net.v1");
  EXPECT_EQ(p.problem, ProblemType::kBinary);
  EXPECT_EQ(p.metrics, (std::vector<std::string>{"accuracy"}));
  EXPECT_EQ(p.seed, 7u);
  EXPECT_EQ(p.data.train.x.columns, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(p.data.train.x.header);
  EXPECT_EQ(p.data.train.x.delimiter, ',');
  EXPECT_DOUBLE_EQ(p.model.layers[1].numbers.at("rate")[0].value, 0.2);
  EXPECT_DOUBLE_EQ(p.model.layers[2].numbers.at("momentum")[0].value, 0.99);
  EXPECT_DOUBLE_EQ(p.model.layers[2].numbers.at("epsilon")[0].value, 0.001);
  EXPECT_EQ(p.train.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(p.train.learning_rate, 0.01);  // sgd's default
  EXPECT_DOUBLE_EQ(p.train.momentum, 0.0);
  EXPECT_EQ(p.train.batch_size, 8);
  EXPECT_EQ(p.train.epochs.value, 20);
  EXPECT_EQ(p.train.epochs_policy, EpochsPolicy::kReduce);
}

TEST(ProgramParser, BinaryNeedsTwoOutputUnits) {
  const std::string text = Replace(kBinary, "_NEURON_2: 2", "_NEURON_2: 1");
  const std::string message = ParseError(text);
  EXPECT_NE(message.find("bad.yaml:" + std::to_string(LineOf(text, "_NEURON_2: 1")) +
                         ": vars._NEURON_2: a binary problem's output layer has 2 units"),
            std::string::npos)
      << message;
}

TEST(ProgramParser, RecurrentAndEmbeddingLayers) {
  const std::string text = R"(name: imdb_rnn
problem: binary
data:
  train:
    x: {format: tensor, path: imdb/x.pt}
    y: {format: tensor, path: imdb/y.pt}
vars: {_EMBEDDING_1: 64, _CELL_1: 32, _NEURON_1: 2, _EPOCHS: 4}
model:
  input: [200]
  input_dtype: int64
  layers:
    - embedding: {input_dim: 10000, output_dim: _EMBEDDING_1}
    - lstm: {units: _CELL_1, return_sequences: true}
    - gru: {units: _CELL_1}
    - dense: {units: _NEURON_1, activation: softmax}
train:
  loss: binary_crossentropy
  epochs: _EPOCHS
)";
  const Program p = ParseOk(text);
  EXPECT_EQ(p.model.input_dtype, "int64");
  EXPECT_EQ(p.model.layers[0].numbers.at("input_dim")[0].value, 10000);
  EXPECT_EQ(p.model.layers[0].numbers.at("output_dim")[0].var, "_EMBEDDING_1");
  EXPECT_EQ(p.model.layers[1].words.at("return_sequences"), "true");
  EXPECT_EQ(p.model.layers[2].words.at("return_sequences"), "false");
  EXPECT_EQ(p.train.optimizer, "adam");  // default when left out
  EXPECT_DOUBLE_EQ(p.train.learning_rate, 0.001);
}

struct MalformedCase {
  const char* label;
  std::string text;
  std::string fragment;         // expected in the message
  std::string line_needle;      // the message must carry this text's line; "" when no line
  std::string suggestion = "";  // when set, the message must end with it
};

std::vector<MalformedCase> MalformedCases() {
  const std::string base = kFashionMlp;
  auto edit = [&](const std::string& from, const std::string& to) {
    return Replace(base, from, to);
  };
  return {
      {"unknown layer", edit("- flatten", "- flaten"),
       "model.layers[0]: unknown layer type 'flaten'; valid: dense, conv2d, maxpool2d, "
       "avgpool2d, global_avgpool2d, flatten, reshape, dropout, batchnorm, embedding, gru, lstm, "
       "conv1d, maxpool1d, avgpool1d, global_avgpool1d, global_maxpool1d, global_maxpool2d, "
       "normalization, activation, add, multihead_attention, layernorm, transformer_block, "
       "token_position_embedding, patches, patch_encoder; did you mean 'flatten'?",
       "- flaten"},
      {"unknown variable reference", edit("units: _NEURON_2,", "units: _NEURON_7,"),
       "model.layers[2] (dense).units: unknown variable '_NEURON_7' (define it under vars); "
       "defined: _EPOCHS, _NEURON_1, _NEURON_2, _NEURON_3",
       "_NEURON_7"},
      {"misspelt _EPOCHS_", edit("_EPOCHS: 10", "_EPOCHS_: 10"),
       "vars._EPOCHS_: unknown variable name '_EPOCHS_'; tagged variables are _NEURON_<k>, "
       "_FILTERS_<k>, _EMBEDDING_<k>, _CELL_<k> (k = 1, 2, ...) and _EPOCHS; did you mean "
       "'_EPOCHS'?",
       "_EPOCHS_:"},
      {"misspelt _FILTER_1", edit("_EPOCHS: 10", "_EPOCHS: 10\n  _FILTER_1: 32"),
       "vars._FILTER_1: unknown variable name '_FILTER_1'; tagged variables are", "_FILTER_1",
       "; did you mean '_FILTERS_1'?"},
      {"misspelt _EMBEDING_1", edit("_EPOCHS: 10", "_EPOCHS: 10\n  _EMBEDING_1: 8"),
       "vars._EMBEDING_1: unknown variable name", "_EMBEDING_1", "; did you mean '_EMBEDDING_1'?"},
      {"misspelt _NEURONS_2", edit("_NEURON_2: 60", "_NEURONS_2: 60"),
       "vars._NEURONS_2: unknown variable name '_NEURONS_2'; tagged", "_NEURONS_2",
       "; did you mean '_NEURON_2'?"},
      {"variable k from 1", edit("_EPOCHS: 10", "_EPOCHS: 10\n  _CELL_0: 8"),
       "vars._CELL_0: unknown variable name '_CELL_0' (k counts from 1)", "_CELL_0"},
      {"missing model",
       edit("model:\n  input: [28, 28]\n  layers:\n    - flatten\n"
            "    - dense: {units: _NEURON_1, activation: relu}\n"
            "    - dense: {units: _NEURON_2, activation: relu}\n"
            "    - dense: {units: _NEURON_3, activation: softmax}\n",
            ""),
       "bad.yaml: missing required top-level key 'model'", ""},
      {"unknown top-level key", edit("model:", "modle:"),
       "unknown top-level key 'modle'; valid: name, problem, metrics, seed, data, vars, model, "
       "train; did you mean 'model'?",
       "modle:"},
      {"bad problem type", edit("problem: multiclass ", "problem: multiclas "),
       "problem: unknown value 'multiclas'; valid: multiclass, binary, regression; did you mean "
       "'multiclass'?",
       "problem:"},
      {"non-integer units", edit("units: _NEURON_1,", "units: 2.5,"),
       "model.layers[1] (dense).units: must be an integer, got '2.5'", "units: 2.5"},
      {"negative batch_size", edit("batch_size: 32", "batch_size: -4"),
       "train.batch_size: must be an integer >= 1, got '-4'", "batch_size"},
      {"loss not fitting the problem", edit("loss: sparse_categorical_crossentropy", "loss: mse"),
       "train.loss: 'mse' does not fit a multiclass problem", "loss: mse"},
      {"last layer not the highest _NEURON_",
       edit("units: _NEURON_3, activation: softmax", "units: _NEURON_2, activation: softmax"),
       "model.layers[3] (dense): the last layer must be a dense layer with units: _NEURON_3",
       "_NEURON_2, activation: softmax"},
      {"absolute data path",
       edit("path: fashion-mnist/train-images", "path: /srv/fashion-mnist/train-images"),
       "data.train.x.path: '/srv/fashion-mnist/train-images-idx3-ubyte.gz' is absolute",
       "/srv/fashion"},
      {"data path leaving the working dir",
       edit("path: fashion-mnist/t10k-labels", "path: fashion-mnist/../../t10k-labels"),
       "data.test.y.path: 'fashion-mnist/../../t10k-labels-idx1-ubyte.gz' leaves the working_dir",
       "../../"},
      {"validation_split out of range", edit("validation_split: 0.1", "validation_split: 1.5"),
       "data.validation_split: must be in [0, 1), got 1.5", "validation_split"},
      {"YAML syntax error", edit("input: [28, 28]", "input: [28, 28"),
       "YAML syntax error: end of sequence flow not found",
       "  layers:"},  // yaml-cpp notices the missing ']' on the next line
      {"mapping as units", edit("units: _NEURON_1,", "units: {value: 128},"),
       "model.layers[1] (dense).units: expected an integer or a tagged variable (e.g. "
       "_NEURON_1), got a mapping",
       "value: 128"},
      {"unknown layer parameter", edit("_NEURON_1, activation: relu", "_NEURON_1, activaton: relu"),
       "model.layers[1] (dense): unknown parameter 'activaton'; valid: units, activation, name, "
       "inputs; did you mean 'activation'?",
       "activaton"},
      {"word where a number is needed", edit("units: _NEURON_1,", "units: many,"),
       "model.layers[1] (dense).units: expected an integer or a tagged variable (e.g. "
       "_NEURON_1), got 'many'",
       "units: many"},
      {"missing layer parameter",
       edit("{units: _NEURON_2, activation: relu}", "{activation: relu}"),
       "model.layers[2] (dense): missing required parameter 'units'", "{activation: relu}"},
      {"unknown activation", edit("_NEURON_1, activation: relu", "_NEURON_1, activation: rleu"),
       "model.layers[1] (dense).activation: unknown value 'rleu'; valid: relu, sigmoid, tanh, "
       "softmax, linear, elu, leaky_relu, gelu, relu6, softplus, softsign, selu, swish, silu; "
       "did you mean 'relu'?",
       "rleu"},
      {"unknown epochs variable", edit("epochs: _EPOCHS", "epochs: _EPOCH"),
       "train.epochs: unknown variable '_EPOCH' (define it under vars); defined: _EPOCHS, "
       "_NEURON_1, _NEURON_2, "
       "_NEURON_3; did you mean '_EPOCHS'?",
       "epochs: _EPOCH"},
      {"missing loss", edit("  loss: sparse_categorical_crossentropy\n", ""),
       "train: missing required key 'loss'", "train:\n  optimizer"},
      {"unknown optimizer", edit("{adam: {lr: 0.001}}", "{adamw: {lr: 0.001}}"),
       "train.optimizer: unknown optimizer 'adamw'; valid: adam, sgd", "adamw"},
      {"non-positive learning rate", edit("lr: 0.001", "lr: 0"),
       "train.optimizer.adam.lr: must be > 0, got 0", "lr: 0"},
      {"momentum for adam", edit("lr: 0.001", "lr: 0.001, momentum: 0.9"),
       "train.optimizer.adam: unknown key 'momentum'; valid: lr", "momentum"},
      {"duplicate key", edit("  _NEURON_2: 60", "  _NEURON_2: 60\n  _NEURON_2: 61"),
       "vars: variable '_NEURON_2' appears twice", "_NEURON_2: 61"},
      {"variable value not positive", edit("_NEURON_2: 60", "_NEURON_2: 0"),
       "vars._NEURON_2: must be an integer >= 1, got '0'", "_NEURON_2: 0"},
      {"no _NEURON_ variable",
       edit("  _NEURON_1: 128\n  _NEURON_2: 60\n  _NEURON_3: 10                # highest "
            "_NEURON_: output layer, N classes\n",
            ""),
       "vars: at least one _NEURON_<k> variable is required", "vars:"},
      {"multiclass with one class", edit("_NEURON_3: 10", "_NEURON_3: 1"),
       "vars._NEURON_3: a multiclass output needs the number of classes (>= 2), got 1",
       "_NEURON_3: 1"},
      {"autoencoder target for classification",
       edit("y: {format: idx, path: fashion-mnist/train-labels-idx1-ubyte.gz}", "y: same_as_x"),
       "data.train.y: same_as_x (an autoencoder's target) needs problem: regression",
       "y: same_as_x"},
      {"csv options on idx",
       edit("scale: 255}\n    y: {format: idx, path: fashion-mnist/train",
            "scale: 255, header: true}\n    y: {format: idx, path: "
            "fashion-mnist/train"),
       "data.train.x.header: only applies to format csv (this source is idx)", "header: true"},
      {"unknown data key", edit("validation_split: 0.1", "validaton_split: 0.1"),
       "data: unknown key 'validaton_split'; valid: train, test, validation_split, train_limit, "
       "test_limit, validation, test_split, train_rows, test_rows, shuffle, train_subset, "
       "label_map; did you mean 'validation_split'?",
       "validaton_split"},
      {"dropout rate of 1", edit("- flatten", "- flatten\n    - dropout: {rate: 1}"),
       "model.layers[1] (dropout).rate: must be in [0, 1), got 1", "rate: 1"},
      {"two -1 in a shape", edit("- flatten", "- reshape: {shape: [-1, -1]}"),
       "model.layers[0] (reshape).shape[1]: -1 may appear only once in a shape", "shape: [-1"},
      {"kernel with three numbers", edit("- flatten", "- conv2d: {filters: 3, kernel: [3, 3, 3]}"),
       "model.layers[0] (conv2d).kernel: expected an integer or a list [h, w], got a list of 3",
       "kernel: [3"},
      {"layer parameters not indented",
       edit("    - dense: {units: _NEURON_2, activation: relu}",
            "    - dense:\n      units: _NEURON_2"),
       "model.layers[2]: a layer is a single key, its type, holding its parameters", "- dense:\n"},
      {"variable in the input shape", edit("input: [28, 28]", "input: [28, _NEURON_1]"),
       "model.input[1]: must be a literal integer (variables are not allowed here)", "input: [28"},
      {"empty layer list",
       edit("    - flatten\n    - dense: {units: _NEURON_1, activation: relu}\n"
            "    - dense: {units: _NEURON_2, activation: relu}\n"
            "    - dense: {units: _NEURON_3, activation: softmax}\n",
            "    []\n"),
       "model.layers: expected a non-empty list of layers, got an empty list", "layers:"},
      {"unsafe name", edit("name: fashion_mlp", "name: fashion/mlp"),
       "name: 'fashion/mlp' is not a valid name", "name:"},
      {"unknown metric", edit("[accuracy, loss]", "[accuracy, los]"),
       "metrics[1]: unknown value 'los'; valid: accuracy, loss, mse, mae; did you mean 'loss'?",
       "metrics:"},
      {"negative seed", edit("seed: 42", "seed: -1"), "seed: must be an integer >= 0, got '-1'",
       "seed:"},
  };
}

TEST(ProgramParser, MalformedProgramsGetOneClearMessage) {
  const std::vector<MalformedCase> cases = MalformedCases();
  ASSERT_GE(cases.size(), 12u);
  for (const MalformedCase& c : cases) {
    SCOPED_TRACE(c.label);
    const std::string message = ParseError(c.text);
    EXPECT_EQ(message.rfind("bad.yaml", 0), 0u) << message;  // the file comes first
    EXPECT_NE(message.find(c.fragment), std::string::npos) << message;
    if (!c.suggestion.empty()) {
      ASSERT_GE(message.size(), c.suggestion.size());
      EXPECT_EQ(message.substr(message.size() - c.suggestion.size()), c.suggestion);
    }
    if (!c.line_needle.empty()) {
      const int line = LineOf(c.text, c.line_needle);
      ASSERT_GT(line, 0) << c.line_needle;
      EXPECT_EQ(message.rfind("bad.yaml:" + std::to_string(line) + ": ", 0), 0u) << message;
    }
  }
}

TEST(ProgramParser, DocumentThatIsNotAMapping) {
  for (const char* text : {"", "~", "- a\n- b\n", "just words"}) {
    SCOPED_TRACE(text);
    const std::string message = ParseError(text, "odd.yaml");
    EXPECT_NE(message.find("odd.yaml: a program is a YAML mapping with keys name, problem"),
              std::string::npos)
        << message;
  }
}

// Malformed input of any shape gives a Status, never an exception or a crash.
TEST(ProgramParser, TruncatedAndHostileInputNeverThrows) {
  const std::string full = kMnistCnn;
  for (size_t length = 0; length < full.size(); ++length) {
    EXPECT_NO_THROW(ParseProgramText(full.substr(0, length), "cut.yaml"));
  }
  const std::vector<std::string> hostile = {
      std::string(20000, '[') + std::string(20000, ']'),
      "{",
      "\t- bad tab",
      std::string("name: \0\xff\xfe", 9),
      "a: &x [*x]",
      "? [complex, key]\n: value\n",
      "model: {layers: [{? [a]: b}]}\n",
      "*undefined_alias",
      "%YAML 9.9\n---\nname: x\n",
  };
  for (const std::string& text : hostile) {
    EXPECT_NO_THROW({
      const Result<Program> program = ParseProgramText(text, "hostile.yaml");
      EXPECT_FALSE(program.ok());
      EXPECT_NE(program.status().message().find("hostile.yaml"), std::string::npos)
          << program.status().message();
    });
  }
}

TEST(ProgramParser, ParsesAFileAndNamesItInMessages) {
  testing::ScratchDir dir;
  const std::string path = dir.Join("original/fashion_mlp.yaml");
  testing::WriteFile(path, kFashionMlp);
  const Result<Program> program = ParseProgramFile(path);
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  EXPECT_EQ(program->source_path, path);
  EXPECT_EQ(program->model.layers.size(), 4u);

  testing::WriteFile(path, Replace(kFashionMlp, "- flatten", "- flaten"));
  const Result<Program> bad = ParseProgramFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(path + ":21: model.layers[0]", 0), 0u)
      << bad.status().message();
}

TEST(ProgramParser, MissingFileIsNotFound) {
  testing::ScratchDir dir;
  const std::string path = dir.Join("original/absent.yaml");
  const Result<Program> program = ParseProgramFile(path);
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), Status::Code::kNotFound);
  EXPECT_NE(program.status().message().find(path), std::string::npos);
}

TEST(ProgramParser, ProblemTypeNames) {
  EXPECT_STREQ(ProblemTypeName(ProblemType::kMulticlass), "multiclass");
  EXPECT_STREQ(ProblemTypeName(ProblemType::kBinary), "binary");
  EXPECT_STREQ(ProblemTypeName(ProblemType::kRegression), "regression");
}

}  // namespace
}  // namespace cloudbook
