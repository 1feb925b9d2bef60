// `cloudbook-maker import` (maker/keras_import/): the SKYNNET markers, the special names,
// the Keras layer mapping, and whole original-style programs (tests/testdata/keras/) turned
// into programs whose subnets follow the rules of docs/design/deconstruction.md.
#include "maker/keras_import/keras_import.h"

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <string>
#include <vector>

#include "maker/deconstruction.h"
#include "maker/keras_import/keras_layers.h"
#include "maker/keras_import/python_tokenizer.h"
#include "maker/keras_import/skynnet_markers.h"
#include "maker/keras_import/tagged_names.h"
#include "tests/keras_import_test_programs.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using keras_import::CheckName;
using keras_import::NameRole;
using keras_test::Contains;
using keras_test::ImportError;
using keras_test::ImportOrDie;
using keras_test::kSmall;
using keras_test::Replace;
using keras_test::Subnets;
using keras_test::TestProgram;

int64_t OutputUnits(const SubnetSpec& subnet) {
  return static_cast<int64_t>(subnet.model.layers.back().numbers.at("units")[0].value);
}

// ---- markers and names ----

TEST(KerasMarkers, FindsTheBlockItsProblemTypeAndMetrics) {
  auto tokens = keras_import::TokenizePython(
      "x = 1\n#SKYNNET:BEGIN_REGRESSION_LOSS\ny = 2\n#SKYNNET:END\n", "m.py");
  ASSERT_TRUE(tokens.ok());
  auto block = keras_import::FindSkynnetBlock(*tokens, "m.py");
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  EXPECT_EQ(block->problem, ProblemType::kRegression);
  EXPECT_EQ(block->metrics_suffix, "LOSS");
  EXPECT_EQ(block->begin_line, 2);
  EXPECT_EQ(block->end_line, 4);
  EXPECT_TRUE(block->Contains(3));
  EXPECT_FALSE(block->Contains(4));
}

TEST(KerasMarkers, MistakesInTheMarkersAreErrorsWithTheirLine) {
  auto error = [](const std::string& text) {
    auto tokens = keras_import::TokenizePython(text, "m.py");
    EXPECT_TRUE(tokens.ok());
    auto block = keras_import::FindSkynnetBlock(*tokens, "m.py");
    EXPECT_FALSE(block.ok());
    return block.ok() ? "" : block.status().message();
  };
  EXPECT_TRUE(Contains(error("x = 1\n"), "no #SKYNNET:BEGIN_<TYPE> marker"));
  EXPECT_EQ(error("\n#SKYNNET:BEGIN_MULTICLAS\n#SKYNNET:END\n"),
            "m.py:2: unknown problem type 'MULTICLAS' in the marker; valid: REGRESSION, "
            "MULTICLASS, BINARYCLASS; did you mean 'MULTICLASS'?");
  EXPECT_TRUE(Contains(error("#SKYNNET:BEGIN_BINARYCLASS_ACCLOSS\n#SKYNNET:END\n"),
                       "did you mean '_ACC_LOSS'?"));
  EXPECT_TRUE(Contains(error("#SKYNNET:END\n"), "m.py:1: #SKYNNET:END without"));
  EXPECT_TRUE(Contains(error("#SKYNNET:BEGIN_MULTICLASS\n#SKYNNET:END\n#SKYNNET:BEGIN_"
                             "MULTICLASS\n#SKYNNET:END\n"),
                       "m.py:3: a second #SKYNNET:BEGIN (the first is at line 1)"));
  EXPECT_TRUE(Contains(error("#SKYNNET:BEGIN_MULTICLASS\nx = 1\n"),
                       "m.py:1: the SKYNNET "
                       "block is never closed"));
}

TEST(KerasNames, TaggedDataAndMisspeltNamesAndHowSkToolReadThem) {
  EXPECT_EQ(CheckName("_NEURON_3").role, NameRole::kTagged);
  EXPECT_EQ(CheckName("_EPOCHS").role, NameRole::kTagged);
  EXPECT_EQ(CheckName("_DATA_TRAIN_X").role, NameRole::kData);
  EXPECT_EQ(CheckName("x_train").role, NameRole::kPlain);
  EXPECT_EQ(CheckName("__name__").role, NameRole::kPlain);
  const std::vector<std::pair<std::string, std::string>> misspelt = {
      {"_EPOCHS_", "_EPOCHS"},     {"_FILTER_1", "_FILTERS_1"}, {"_EMBEDING_", "_EMBEDDING_<k>"},
      {"_NEURONS_1", "_NEURON_1"}, {"_neuron_2", "_NEURON_2"},  {"_DATA_TRAIN", "_DATA_TRAIN_X"}};
  for (const auto& [name, meant] : misspelt) {
    const auto check = CheckName(name);
    EXPECT_EQ(check.role, NameRole::kMisspelt) << name;
    EXPECT_EQ(check.suggestion, meant) << name;
    EXPECT_EQ(check.original_reading, "") << name << ": sk_tool did not recognise it";
  }
  // sk_tool read these (the prefix before the first digits is one of its names).
  EXPECT_EQ(CheckName("_NEURON_01").original_reading, "_NEURON_1");
  EXPECT_EQ(CheckName("_NEURON_01").why, "k is written without leading zeros");
  EXPECT_EQ(CheckName("_NEURON_0").why, "k counts from 1");
}

TEST(KerasLayers, KeywordAndPositionalArgumentsMapToTheProgramFormat) {
  using keras_import::CallArgs;
  using keras_import::Value;
  Value filters = Value::Number(25, true);
  filters.tag = "_FILTERS_1";
  CallArgs conv{{filters, Value::Sequence({Value::Number(3, true), Value::Number(3, true)}, false)},
                {{"strides", Value::Number(2, true)},
                 {"padding", Value::String("same")},
                 {"activation", Value::String("relu")}},
                7,
                "Conv2D(...)"};
  auto layer = keras_import::MakeLayer("Conv2D", conv);
  ASSERT_TRUE(layer.ok()) << layer.status().ToString();
  EXPECT_EQ(layer->spec.type, "conv2d");
  EXPECT_EQ(layer->spec.numbers.at("filters")[0].var, "_FILTERS_1");
  EXPECT_EQ(layer->spec.numbers.at("kernel").size(), 2u);
  EXPECT_EQ(layer->spec.numbers.at("stride")[0].value, 2);
  EXPECT_EQ(layer->spec.words.at("padding"), "same");
  EXPECT_EQ(layer->spec.line, 7);

  auto gru = keras_import::MakeLayer("GRU", {{Value::Number(64, true)},
                                             {{"return_sequences",
                                               [] {
                                                 Value yes;
                                                 yes.kind = Value::Kind::kBool;
                                                 yes.number = 1;
                                                 return yes;
                                               }()}},
                                             1,
                                             "GRU(64)"});
  ASSERT_TRUE(gru.ok());
  EXPECT_EQ(gru->spec.words.at("return_sequences"), "true");

  auto bad_activation = keras_import::MakeLayer(
      "Dense", {{Value::Number(3, true)}, {{"activation", Value::String("hard_sigmoid")}}, 1, ""});
  ASSERT_FALSE(bad_activation.ok());
  EXPECT_TRUE(
      Contains(bad_activation.status().message(), "'hard_sigmoid' is not supported; valid: relu"));
  auto initializer = keras_import::MakeLayer(
      "Dense",
      {{Value::Number(3, true)}, {{"kernel_initializer", Value::String("he_normal")}}, 1, ""});
  ASSERT_FALSE(initializer.ok());
  EXPECT_TRUE(Contains(initializer.status().message(),
                       "the argument 'kernel_initializer' is not supported (remove it)"));
  Value computed = Value::Number(256, true);
  computed.derived_tag = "_NEURON_1";
  auto expression = keras_import::MakeLayer("Dense", {{computed}, {}, 1, ""});
  ASSERT_FALSE(expression.ok());
  EXPECT_TRUE(Contains(expression.status().message(),
                       "computed from the tagged variable "
                       "_NEURON_1"));
  EXPECT_FALSE(keras_import::MakeLayer("Conv1D", {{}, {}, 1, ""}).ok());
}

// ---- whole programs ----

TEST(KerasImport, AFileTooLargeToBeAProgramIsRefusedUnread) {
  testing::ScratchDir scratch;
  const std::string path = scratch.Join("huge.py");
  testing::WriteFile(path, "# not really a program\n");
  boost::filesystem::resize_file(path, 64ull << 30);  // sparse: costs no disk
  const Result<KerasImport> imported = ImportKerasFile(path);
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(imported.status().message().find("not a program"), std::string::npos)
      << imported.status().message();
}

TEST(KerasImport, FunctionalMlpGivesTheOriginalsSubnets) {
  const KerasImport imported = ImportOrDie("mlp_functional.py");
  const Program& program = imported.program;
  EXPECT_EQ(program.name, "mlp_functional");
  EXPECT_EQ(program.problem, ProblemType::kMulticlass);
  EXPECT_EQ(program.metrics, (std::vector<std::string>{"accuracy", "loss"}));
  EXPECT_EQ(program.data.train.x.path, "fashion-mnist/train-images-idx3-ubyte.gz");
  EXPECT_EQ(program.data.train.x.scale, 255);
  EXPECT_EQ(program.data.train.y.path, "fashion-mnist/train-labels-idx1-ubyte.gz");
  ASSERT_TRUE(program.data.test.has_value());
  EXPECT_EQ(program.data.test->x.path, "fashion-mnist/t10k-images-idx3-ubyte.gz");
  EXPECT_DOUBLE_EQ(program.data.validation_split, 0.1);
  EXPECT_EQ(program.model.input_shape, (std::vector<int64_t>{28, 28}));
  ASSERT_EQ(program.model.layers.size(), 4u);
  EXPECT_EQ(program.model.layers[0].type, "flatten");
  EXPECT_EQ(imported.layer_lines, (std::vector<int>{27, 28, 29, 30}));
  EXPECT_EQ(program.train.epochs.var, "_EPOCHS");
  EXPECT_TRUE(imported.warnings.empty()) << imported.warnings[0];
  // n = 3: g = 3 groups, F = 1.5, widths 86/40, 7 epochs (dense-only), outputs 7/7/6.
  const std::vector<SubnetSpec> subnets = Subnets(program, 3);
  ASSERT_EQ(subnets.size(), 3u);
  EXPECT_EQ(subnets[0].widths.at("_NEURON_1"), 86);
  EXPECT_EQ(subnets[0].widths.at("_NEURON_2"), 40);
  EXPECT_EQ(subnets[0].epochs, 7);
  EXPECT_EQ(subnets[0].classes, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(subnets[1].classes, (std::vector<int64_t>{0, 1, 2, 3, 7, 8, 9}));
  EXPECT_EQ(subnets[2].classes, (std::vector<int64_t>{4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(OutputUnits(subnets[0]), 7);
  EXPECT_EQ(OutputUnits(subnets[2]), 6);
}

TEST(KerasImport, SequentialCnnKeepsItsEpochsAndCutsItsFilters) {
  const Program program = ImportOrDie("cnn_sequential.py").program;
  EXPECT_EQ(program.model.input_shape, (std::vector<int64_t>{28, 28, 1}));
  EXPECT_EQ(program.model.layers[0].type, "conv2d");
  EXPECT_EQ(program.model.layers[1].type, "maxpool2d");
  EXPECT_EQ(program.train.optimizer, "adam");
  const std::vector<SubnetSpec> subnets = Subnets(program, 3);
  ASSERT_EQ(subnets.size(), 3u);
  // The published 17/43/43 at F = 1.5; conv nets keep their epochs.
  EXPECT_EQ(subnets[0].widths.at("_FILTERS_1"), 17);
  EXPECT_EQ(subnets[0].widths.at("_FILTERS_2"), 43);
  EXPECT_EQ(subnets[0].widths.at("_FILTERS_3"), 43);
  EXPECT_EQ(subnets[0].widths.at("_NEURON_1"), 43);
  EXPECT_EQ(subnets[0].epochs, 5);
}

TEST(KerasImport, BinaryNetReadsIdxFilesAndAlwaysMakesTwoHalves) {
  const KerasImport imported = ImportOrDie("binary_net.py");
  const Program& program = imported.program;
  EXPECT_EQ(program.problem, ProblemType::kBinary);
  EXPECT_EQ(program.data.train.x.path, "fashion-binary/train-images-idx3-ubyte.gz");
  EXPECT_EQ(program.data.train.x.scale, 255);
  EXPECT_EQ(program.train.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(program.train.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(program.train.momentum, 0.9);
  EXPECT_EQ(program.train.batch_size, 64);
  EXPECT_EQ(program.model.layers[2].type, "dropout");
  ASSERT_EQ(imported.data_files.size(), 4u);
  const std::vector<SubnetSpec> subnets = Subnets(program, 5);
  ASSERT_EQ(subnets.size(), 2u);
  EXPECT_EQ(subnets[0].half, 0);
  EXPECT_EQ(subnets[1].half, 1);
  EXPECT_EQ(subnets[0].widths.at("_NEURON_1"), 32);
  EXPECT_EQ(OutputUnits(subnets[0]), 2);
  EXPECT_EQ(subnets[0].epochs, 5);
}

TEST(KerasImport, GruNetOverImageRowsCutsItsCells) {
  const Program program = ImportOrDie("gru_rows.py").program;
  EXPECT_EQ(program.model.input_shape, (std::vector<int64_t>{28, 28}));
  EXPECT_EQ(program.model.layers[0].type, "gru");
  EXPECT_EQ(program.model.layers[1].type, "batchnorm");
  EXPECT_EQ(program.train.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(program.train.learning_rate, 0.01);
  // n = 6: g = 4, F = 2: 32 cells; classes {0,1,2} {3,4,5} {6,7} {8,9} paired.
  const std::vector<SubnetSpec> subnets = Subnets(program, 6);
  ASSERT_EQ(subnets.size(), 6u);
  EXPECT_EQ(subnets[0].widths.at("_CELL_1"), 32);
  EXPECT_EQ(subnets[0].classes, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(subnets[5].classes, (std::vector<int64_t>{6, 7, 8, 9}));
  EXPECT_EQ(OutputUnits(subnets[5]), 4);
  EXPECT_EQ(subnets[0].epochs, 3) << "not a dense-only net: epochs kept";
}

TEST(KerasImport, AutoencoderTargetsItsInputAndCutsTheOutputColumns) {
  const Program program = ImportOrDie("autoencoder.py").program;
  EXPECT_EQ(program.problem, ProblemType::kRegression);
  EXPECT_EQ(program.data.train.y.format, "same_as_x");
  ASSERT_TRUE(program.data.test.has_value());
  EXPECT_EQ(program.data.test->y.format, "same_as_x");
  EXPECT_EQ(program.model.input_shape, std::vector<int64_t>{784});
  EXPECT_EQ(program.train.loss, "mse");
  EXPECT_EQ(program.train.batch_size, 256);
  const std::vector<SubnetSpec> subnets = Subnets(program, 4);
  ASSERT_EQ(subnets.size(), 4u);
  EXPECT_EQ(subnets[0].widths.at("_NEURON_1"), 32);
  EXPECT_EQ(subnets[0].widths.at("_NEURON_2"), 8);
  EXPECT_EQ(subnets[1].column_begin, 196);
  EXPECT_EQ(subnets[1].column_end, 392);
  EXPECT_EQ(OutputUnits(subnets[3]), 196);
}

TEST(KerasImport, ManualStyleDataLoadingByIndexAndInMain) {
  // The manual's section 2.2.1: load_data()[0][0], and a load function called from main.
  const std::string program =
      Replace(Replace(kSmall,
                      "(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()\n"
                      "x_train = x_train / 255.0\n",
                      "#__CLOUDBOOK:NONSHARED__\nmnist = tf.keras.datasets.mnist\nx_train = None\n"
                      "def load_data():\n    global x_train, y_train\n"
                      "    x_train = mnist.load_data()[0][0] / 255.0\n"
                      "    y_train = mnist.load_data()[0][1]\n"
                      "def main():\n    load_data()\n"),
              "_DATA_TRAIN_X = x_train\n", "load_data()\n_DATA_TRAIN_X = x_train\n");
  auto imported = ImportKerasProgram(program, "manual.py", "manual");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->program.data.train.x.path, "mnist/train-images-idx3-ubyte.gz");
  EXPECT_EQ(imported->program.data.train.y.path, "mnist/train-labels-idx1-ubyte.gz");
  EXPECT_EQ(imported->program.data.train.x.scale, 255);
  EXPECT_FALSE(imported->program.data.test.has_value());
}

// int() of a tagged width is that width (reduced in every subnet); a width computed from one
// (int(_NEURON_1 / 4), float(...), _NEURON_1 // 2) is refused with its line, never imported
// as a plain number that the maker would then claim to have reduced.
TEST(KerasImport, TaggedWidthsKeepTheirTagThroughIntAndComputedOnesAreRefused) {
  const std::string kept_text =
      Replace(kSmall, "Dense(_NEURON_1, activation", "Dense(int(_NEURON_1), activation");
  auto kept = ImportKerasProgram(kept_text, "p.py", "p");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->program.model.layers[1].numbers.at("units")[0].var, "_NEURON_1");
  auto plain = ImportKerasProgram(kSmall, "p.py", "p");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  const std::vector<SubnetSpec> subnets = Subnets(kept->program, 3);
  const std::vector<SubnetSpec> plain_subnets = Subnets(plain->program, 3);
  ASSERT_EQ(subnets.size(), 3u);
  ASSERT_EQ(plain_subnets.size(), 3u);
  const double reduced = subnets[0].model.layers[1].numbers.at("units")[0].value;
  EXPECT_LT(reduced, 32);  // cut by F, as Dense(_NEURON_1) is
  EXPECT_EQ(reduced, plain_subnets[0].model.layers[1].numbers.at("units")[0].value);

  for (const char* width :
       {"int(_NEURON_1 / 4)", "int(float(_NEURON_1))", "_NEURON_1 // 2", "int(_NEURON_1 * 0.5)"}) {
    const std::string error = ImportError(Replace(kSmall, "Dense(_NEURON_1, activation",
                                                  std::string("Dense(") + width + ", activation"));
    EXPECT_TRUE(Contains(error, "p.py:12")) << width << ": " << error;
    EXPECT_TRUE(Contains(error, "computed from the tagged variable _NEURON_1"))
        << width << ": " << error;
  }
}

// A class body ends with its last statement, not with the comment lines after it; code the
// block runs is read strictly wherever it is written (a helper that builds the model must be
// exact), and a problem there is named as being in a function the block calls.
TEST(KerasImport, HelpersAndClassesBeforeTheBlockAreOutsideIt) {
  const std::string with_class = Replace(kSmall, "#SKYNNET:BEGIN",
                                         "class Helper:\n    def f(self):\n        return 1\n"
                                         "#SKYNNET:BEGIN");
  auto imported = ImportKerasProgram(with_class, "p.py", "p");
  EXPECT_TRUE(imported.ok()) << imported.status().ToString();

  const std::string builder =
      Replace(Replace(kSmall, "#SKYNNET:BEGIN",
                      "def build(n1, n2):\n    model = tf.keras.Sequential()\n"
                      "    model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))\n"
                      "    model.add(tf.keras.layers.Dense(n1, activation='relu'))\n"
                      "    model.add(tf.keras.layers.Dense(n2, activation='softmax'))\n"
                      "    return model\n#SKYNNET:BEGIN"),
              "model = tf.keras.Sequential([", "model = build(_NEURON_1, _NEURON_2)\nunused = ([");
  imported = ImportKerasProgram(builder, "p.py", "p");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->program.model.layers.size(), 3u);
  EXPECT_EQ(imported->program.model.layers[1].numbers.at("units")[0].var, "_NEURON_1");

  const std::string with_helper =
      Replace(Replace(kSmall, "#SKYNNET:BEGIN",
                      "def helper(n):\n    total = 0\n    for i in range(len(n)):\n"
                      "        total += i\n    return total\n#SKYNNET:BEGIN"),
              "model.compile(", "x = helper(x_train)\nmodel.compile(");
  const std::string error = ImportError(with_helper);
  EXPECT_TRUE(Contains(error,
                       "p.py:6: a 'for' loop over 'range(len(n))' in a function the "
                       "SKYNNET block calls"))
      << error;
}

// A value changed by a statement the importer skips is not used with its old value.
TEST(KerasImport, AValueChangedByASkippedStatementIsNotUsedStale) {
  const std::string text =
      Replace(Replace(kSmall, "#SKYNNET:BEGIN",
                      "n = 64\nfor i in range(len(x_train)):\n    n *= 2\n#SKYNNET:BEGIN"),
              "_NEURON_1 = 32", "_NEURON_1 = n");
  const std::string error = ImportError(text);
  EXPECT_TRUE(Contains(error, "'n' is set by the 'for' statement at line 6")) << error;
}

TEST(KerasImport, MisspeltAndComputedTaggedVariablesWarnWithWhatSkToolDid) {
  const KerasImport imported = ImportOrDie("misspelt_names.py");
  ASSERT_EQ(imported.warnings.size(), 5u);
  EXPECT_TRUE(Contains(imported.warnings[0],
                       "misspelt_names.py:15: '_FILTER_1' is not a "
                       "tagged name; did you mean '_FILTERS_1'?"));
  EXPECT_TRUE(Contains(imported.warnings[0], "kept its value (16) in every subnet"));
  EXPECT_TRUE(Contains(imported.warnings[1],
                       "misspelt_names.py:16: _FILTERS_2 is assigned an "
                       "expression ('4 * 8')"));
  EXPECT_TRUE(Contains(imported.warnings[1], "stopped with an error"));
  EXPECT_TRUE(Contains(imported.warnings[2], ":17: '_NEURONS_1'"));
  EXPECT_TRUE(Contains(imported.warnings[3], ":19: '_EMBEDING_'"));
  EXPECT_TRUE(Contains(imported.warnings[3], "'_EMBEDDING_<k>'"));
  EXPECT_TRUE(Contains(imported.warnings[4],
                       ":20: '_EPOCHS_' is not a tagged name; did you "
                       "mean '_EPOCHS'?"));
  const Program& program = imported.program;
  EXPECT_EQ(program.metrics, std::vector<std::string>{"accuracy"});
  EXPECT_EQ(program.vars, (std::map<std::string, int64_t>{{"_FILTERS_2", 32}, {"_NEURON_2", 10}}));
  EXPECT_EQ(program.model.layers[0].numbers.at("filters")[0].var, "")
      << "_FILTER_1 stays a plain number, as sk_tool left it";
  EXPECT_EQ(program.model.layers[0].numbers.at("filters")[0].value, 16);
  EXPECT_EQ(program.train.epochs.var, "");
  EXPECT_EQ(program.train.epochs.value, 2);
  const std::vector<SubnetSpec> subnets = Subnets(program, 3);
  ASSERT_EQ(subnets.size(), 3u);
  EXPECT_EQ(subnets[0].widths.at("_FILTERS_2"), 22);
  EXPECT_EQ(subnets[0].model.layers[0].numbers.at("filters")[0].value, 16);
}

TEST(KerasImport, BrokenTestProgramsGiveTheLineTheConstructAndWhatToDo) {
  auto error = [](const std::string& file) {
    auto imported = ImportKerasProgram(TestProgram(file), file, "p");
    EXPECT_FALSE(imported.ok()) << file;
    return imported.ok() ? "" : imported.status().message();
  };
  const std::string layer = error("bad_unsupported_layer.py");
  EXPECT_TRUE(Contains(layer,
                       "bad_unsupported_layer.py:13: "
                       "'tf.keras.layers.SimpleRNN(32, activation='relu')': the Keras "
                       "layer SimpleRNN is not supported; supported: Dense, Conv1D, Conv2D"))
      << layer;
  const std::string validation = error("bad_validation_data.py");
  EXPECT_TRUE(Contains(validation, "bad_validation_data.py:20: "));
  EXPECT_TRUE(Contains(validation, "validation_data takes a part of its arrays (line 6)"))
      << validation;
  EXPECT_TRUE(Contains(validation, "write validation_split=<fraction>"));
  const std::string output = error("bad_untagged_output.py");
  EXPECT_TRUE(Contains(output,
                       "bad_untagged_output.py:16: the output layer's units (10) are "
                       "not a _NEURON_<k> variable"))
      << output;
  const std::string loop = error("bad_loop_in_block.py");
  EXPECT_TRUE(Contains(loop,
                       "bad_loop_in_block.py:14: a 'for' loop over 'range(len(x_train) // "
                       "30000)' inside the SKYNNET block: the importer unrolls loops over a "
                       "constant range or list only"))
      << loop;
  EXPECT_TRUE(Contains(error("bad_no_end.py"),
                       "bad_no_end.py:6: the SKYNNET block is never "
                       "closed"));
}

TEST(KerasImport, ConstructsOutsideTheSubsetAreErrorsNeverGuesses) {
  EXPECT_TRUE(Contains(
      ImportError(Replace(kSmall, "loss='sparse_categorical_crossentropy'", "loss='hinge'")),
      "p.py:15: 'model.compile(optimizer='adam', loss='hinge')': the loss "
      "'hinge' is not supported"));
  EXPECT_TRUE(Contains(ImportError(Replace(kSmall, "optimizer='adam'", "optimizer='rmsprop'")),
                       "optimizer 'rmsprop' is not supported; valid: 'adam', 'sgd'"));
  EXPECT_TRUE(Contains(
      ImportError(Replace(kSmall, "x_train = x_train / 255.0", "x_train = x_train - 0.5")),
      "p.py:16: fit's training data ('_DATA_TRAIN_X') must be data loaded from a Keras data "
      "set"));
  EXPECT_TRUE(Contains(ImportError(Replace(kSmall, "_NEURON_2 = 10", "_NEURON_2 = n_classes")),
                       "p.py:8: the tagged variable _NEURON_2 must be a whole number >= 1"));
  EXPECT_TRUE(
      Contains(ImportError(Replace(kSmall, "_NEURON_2 = 10", "_NEURON_2 = 10\n_NEURON_3 = 4")),
               "the output layer uses _NEURON_2 but the highest is _NEURON_3 (line 9)"));
  EXPECT_TRUE(Contains(ImportError(Replace(kSmall, "MULTICLASS_ACC_LOSS", "BINARYCLASS")),
                       "BINARYCLASS needs an output layer of 2 units (_NEURON_2 = 10)"));
  EXPECT_TRUE(Contains(ImportError(Replace(kSmall, "MULTICLASS_ACC_LOSS", "REGRESSION")),
                       "the loss 'sparse_categorical_crossentropy' does not fit "
                       "#SKYNNET:BEGIN_REGRESSION"));
  EXPECT_TRUE(Contains(ImportError(Replace(kSmall, "mnist.load_data()", "cifar10.load_data()")),
                       "the Keras data set 'cifar10' is not supported"));
  EXPECT_TRUE(
      Contains(ImportError(Replace(kSmall, "model.fit(", "plt.plot(_DATA_TRAIN_X)\nmodel.fit(")),
               "p.py:16: 'plt.plot(_DATA_TRAIN_X)': the importer does not know what "
               "this does inside the SKYNNET block; move it after #SKYNNET:END"));
  EXPECT_TRUE(Contains(
      ImportError(Replace(kSmall, "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)\n", "")),
      "p.py:4: no <model>.fit(...) in the SKYNNET block"));
  EXPECT_TRUE(Contains(ImportError(Replace(kSmall, "input_shape=(28, 28)", "input_shape=(28, 27)")),
                       "the model's input (28, 27) holds 756 values per sample, but the "
                       "training data (line 2) has (28, 28) (784)"));
}

TEST(KerasImport, HostileProgramsStayWithinBoundsAndSayWhy) {
  // Deep nesting is refused with a message, not followed until the stack runs out.
  const std::string deep = std::string(150, '(') + "10" + std::string(150, ')');
  EXPECT_TRUE(Contains(ImportError(Replace(kSmall, "_NEURON_2 = 10", "_NEURON_2 = " + deep)),
                       "nested more than 100 levels deep"));
  EXPECT_TRUE(Contains(ImportError(Replace(kSmall, "_NEURON_2 = 10", "_NEURON_2 = 1e300")),
                       "must be a whole number >= 1 (a width or the epochs, at most 10^9)"));
  // Calls that would repeat 10^16 times, values that double: cut short, the import goes on.
  std::string prelude = "def f0():\n    pass\n";
  for (int i = 1; i <= 16; ++i) {
    prelude += "def f" + std::to_string(i) + "():\n";
    for (int call = 0; call < 10; ++call) prelude += "    f" + std::to_string(i - 1) + "()\n";
  }
  prelude += "f16()\na = 1\n";
  for (int i = 0; i < 40; ++i) prelude += "a = a, a\n";
  auto imported = ImportKerasProgram(prelude + kSmall, "p.py", "p");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
}

TEST(KerasImport, CodeOutsideTheBlockThatDoesNotMatterIsSkipped) {
  const std::string program =
      "import matplotlib.pyplot as plt\n"
      "for i in range(3):\n    print(i)\n"
      "class Helper:\n    pass\n" +
      Replace(kSmall, "#SKYNNET:END\n",
              "#SKYNNET:END\nplt.plot(history.history['loss'])\nscore = model.evaluate(x_test)\n"
              "with open('log.txt', 'w') as f:\n    f.write(str(score))\n");
  auto imported = ImportKerasProgram(program, "p.py", "p");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_GE(imported->notes.size(), 3u);
}

TEST(KerasImport, WritesTheProgramOnceAndRefusesToReplaceADifferentOne) {
  testing::ScratchDir project;
  const KerasImport imported = ImportOrDie("mlp_functional.py");
  auto first = WriteImportedProgram(imported, project.path(), false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->program_path, project.Join("original/mlp_functional.yaml"));
  EXPECT_FALSE(first->unchanged);
  EXPECT_EQ(first->data_present, std::vector<bool>(4, false));
  EXPECT_EQ(testing::ReadFileOrDie(first->program_path), imported.yaml);
  auto again = WriteImportedProgram(imported, project.path(), false);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->unchanged);

  KerasImport changed = imported;
  changed.yaml += "# changed\n";
  auto refused = WriteImportedProgram(changed, project.path(), false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kIoError);
  EXPECT_TRUE(Contains(refused.status().message(), "already exists with other contents"));
  EXPECT_EQ(testing::ReadFileOrDie(first->program_path), imported.yaml);
  ASSERT_TRUE(WriteImportedProgram(changed, project.path(), true).ok());
  EXPECT_EQ(testing::ReadFileOrDie(first->program_path), changed.yaml);
}

}  // namespace
}  // namespace cloudbook
