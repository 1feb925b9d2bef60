// The importer's control flow (issue 17): constant conditions folded, loops over constant
// ranges and lists unrolled (in the block and in the functions it calls), refusals with
// file:line for what cannot be decided; statements after fit skipped with a summary note,
// or refused when they could change the training.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "maker/keras_import/import_summary.h"
#include "maker/keras_import/keras_import.h"
#include "tests/keras_import_test_programs.h"

namespace cloudbook {
namespace {

using keras_test::Contains;
using keras_test::ImportError;
using keras_test::ImportTextOrDie;
using keras_test::kSmall;
using keras_test::Replace;

// The layer types of an import, in order ("flatten dense dense").
std::string Types(const KerasImport& imported) {
  std::string types;
  for (const LayerSpec& layer : imported.program.model.layers) {
    types += (types.empty() ? "" : " ") + layer.type;
  }
  return types;
}

const char kModelLines[] = R"(model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(_NEURON_1, activation='relu'),
    tf.keras.layers.Dense(_NEURON_2, activation='softmax'),
])
)";

// kSmall with its Sequential([...]) replaced by `model_code` (the block's model).
std::string WithModel(const std::string& model_code, const std::string& before_block = "") {
  std::string text = Replace(kSmall, kModelLines, model_code);
  if (!before_block.empty())
    text = Replace(text, "#SKYNNET:BEGIN", before_block + "#SKYNNET:BEGIN");
  return text;
}

TEST(KerasControl, ConstantConditionsAreFoldedInAndOutsideTheBlock) {
  const std::string model =
      "model = tf.keras.Sequential()\n"
      "model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))\n"
      "if USE_DROPOUT:\n"
      "    model.add(tf.keras.layers.Dropout(0.2))\n"
      "if not USE_DROPOUT:\n"
      "    model.add(tf.keras.layers.BatchNormalization())\n"
      "if DEPTH > 2:\n"
      "    model.add(tf.keras.layers.Dense(_NEURON_1, activation='relu'))\n"
      "elif DEPTH == 2 and MODE == 'wide':\n"
      "    model.add(tf.keras.layers.Dense(_NEURON_1, activation='tanh'))\n"
      "else:\n"
      "    model.add(tf.keras.layers.Dense(_NEURON_1, activation='sigmoid'))\n"
      "model.add(tf.keras.layers.Dense(_NEURON_2, activation='softmax' if USE_DROPOUT else "
      "'linear'))\n";
  const KerasImport imported =
      ImportTextOrDie(WithModel(model,
                                "USE_DROPOUT = True\nDEPTH = 2\nMODE = 'wide'\nif MODE is None:\n"
                                "    DEPTH = 5\n"));
  ASSERT_EQ(Types(imported), "flatten dropout dense dense");
  EXPECT_EQ(imported.program.model.layers[2].words.at("activation"), "tanh");
  EXPECT_EQ(imported.program.model.layers[3].words.at("activation"), "softmax");
}

TEST(KerasControl, ConditionsTheImporterCannotDecideAreRefusedWithTheLine) {
  // A condition on the data.
  std::string error = ImportError(WithModel(
      "model = tf.keras.Sequential()\n"
      "model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))\n"
      "if len(x_train) > 1000:\n"
      "    model.add(tf.keras.layers.Dropout(0.2))\n"
      "model.add(tf.keras.layers.Dense(_NEURON_1))\nmodel.add(tf.keras.layers.Dense(_NEURON_2, "
      "activation='softmax'))\n"));
  EXPECT_TRUE(Contains(error,
                       "p.py:12: an 'if' on 'len(x_train) > 1000' inside the SKYNNET "
                       "block: the importer cannot tell which branch the network takes"))
      << error;
  // A condition on a tagged variable: each subnet would take its own branch.
  error = ImportError(WithModel(
      "model = tf.keras.Sequential()\n"
      "model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))\n"
      "if _NEURON_1 > 16:\n"
      "    model.add(tf.keras.layers.Dropout(0.2))\n"
      "model.add(tf.keras.layers.Dense(_NEURON_1))\nmodel.add(tf.keras.layers.Dense(_NEURON_2, "
      "activation='softmax'))\n"));
  EXPECT_TRUE(Contains(error, "p.py:12: an 'if' on '_NEURON_1 > 16'")) << error;
  EXPECT_TRUE(Contains(error, "depends on the tagged variable _NEURON_1")) << error;
  // A chained comparison is not guessed.
  error =
      ImportError(WithModel("model = tf.keras.Sequential()\n"
                            "if 0 < 1 < 2:\n"
                            "    model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))\n"));
  EXPECT_TRUE(Contains(error, "p.py:11: an 'if' on '0 < 1 < 2'")) << error;
  EXPECT_TRUE(Contains(error, "chained comparison")) << error;
}

TEST(KerasControl, LoopsOverConstantsAreUnrolledInTheBlockAndInItsHelpers) {
  // In the block: a list of tagged widths, and range() with the loop variable in arguments.
  const KerasImport imported = ImportTextOrDie(
      WithModel("model = tf.keras.Sequential()\n"
                "model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))\n"
                "for units in [_NEURON_1, 16]:\n"
                "    model.add(tf.keras.layers.Dense(units, activation='relu'))\n"
                "for i in range(2):\n"
                "    model.add(tf.keras.layers.Dropout(0.1 * (i + 1)))\n"
                "    if i == 1:\n"
                "        break\n"
                "else:\n"
                "    model.add(tf.keras.layers.Dropout(0.5))\n"
                "model.add(tf.keras.layers.Dense(_NEURON_2, activation='softmax'))\n"));
  ASSERT_EQ(Types(imported), "flatten dense dense dropout dropout dense");
  const auto& layers = imported.program.model.layers;
  EXPECT_EQ(layers[1].numbers.at("units")[0].var, "_NEURON_1");
  EXPECT_EQ(layers[2].numbers.at("units")[0].var, "");
  EXPECT_EQ(layers[2].numbers.at("units")[0].value, 16);
  EXPECT_DOUBLE_EQ(layers[4].numbers.at("rate")[0].value, 0.2);
  EXPECT_EQ(imported.layer_lines[2], 13) << "an unrolled layer keeps the line it is written on";

  // In a helper the block calls, with enumerate and continue.
  const KerasImport helper = ImportTextOrDie(
      WithModel("model = build([_NEURON_1, 24, 8])\n",
                "def build(widths):\n"
                "    model = tf.keras.Sequential()\n"
                "    model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))\n"
                "    for i, w in enumerate(widths):\n"
                "        if i == 1:\n"
                "            continue\n"
                "        model.add(tf.keras.layers.Dense(w, activation='relu'))\n"
                "    model.add(tf.keras.layers.Dense(_NEURON_2, activation='softmax'))\n"
                "    return model\n"));
  ASSERT_EQ(Types(helper), "flatten dense dense dense");
  EXPECT_EQ(helper.program.model.layers[1].numbers.at("units")[0].var, "_NEURON_1");
  EXPECT_EQ(helper.program.model.layers[2].numbers.at("units")[0].value, 8);
}

TEST(KerasControl, LoopsTheImporterCannotUnrollAreRefusedWithTheLine) {
  std::string error =
      ImportError(WithModel("model = tf.keras.Sequential()\n"
                            "model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))\n"
                            "for i in range(_NEURON_1 // 16):\n"
                            "    model.add(tf.keras.layers.Dense(8))\n"
                            "model.add(tf.keras.layers.Dense(_NEURON_2, activation='softmax'))\n"));
  EXPECT_TRUE(Contains(error,
                       "p.py:12: a 'for' loop over 'range(_NEURON_1 // 16)' inside the "
                       "SKYNNET block"))
      << error;
  EXPECT_TRUE(Contains(error, "tagged variable _NEURON_1")) << error;
  error =
      ImportError(WithModel("model = tf.keras.Sequential()\n"
                            "while len(model.layers) < 3:\n"
                            "    model.add(tf.keras.layers.Dense(8))\n"));
  EXPECT_TRUE(Contains(error, "p.py:11: a 'while' statement inside the SKYNNET block")) << error;
  error =
      ImportError(WithModel("model = tf.keras.Sequential()\n"
                            "for i in range(100000):\n"
                            "    model.add(tf.keras.layers.Dense(8))\n"));
  EXPECT_TRUE(Contains(error, "p.py:11: a 'for' loop over 'range(100000)'")) << error;
  EXPECT_TRUE(Contains(error, "more than 1000 items")) << error;
}

TEST(KerasControl, EvaluationAfterFitIsSkippedWithASummaryNote) {
  const std::string after =
      "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)\n"
      "_DATA_TEST_X = x_test\n"
      "_DATA_TEST_Y = y_test\n"
      "predictions = model.predict(_DATA_TEST_X)\n"
      "score = model.evaluate(x_test, y_test)\n"
      "print('accuracy', score[1])\n"
      "labels = np.argmax(predictions, axis=1)\n"
      "for i in range(10):\n"
      "    print(labels[i], y_test[i])\n"
      "plt.plot(history.history['loss'])\n"
      "model.save('model.h5')\n"
      "#SKYNNET:END\n"
      "plt.show()\n";
  const std::string text =
      "import numpy as np\nimport matplotlib.pyplot as plt\n" +
      Replace(kSmall, "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)\n#SKYNNET:END\n",
              after);
  const KerasImport imported = ImportTextOrDie(text);
  ASSERT_TRUE(imported.program.data.test.has_value()) << "predict after fit gives the test data";
  std::string notes;
  for (const std::string& note : imported.summary_notes) notes += note + "\n";
  for (const char* line :
       {"p.py:22: skipped after training: score = model.evaluate(x_test, y_test)",
        "p.py:23: skipped after training: print('accuracy', score[1])",
        "p.py:24: skipped after training: labels = np.argmax(predictions, axis=1)",
        "p.py:25: skipped after training: for i in range(10):",
        "p.py:27: skipped after training: plt.plot(history.history['loss'])",
        "p.py:28: skipped after training: model.save('model.h5')",
        "p.py:30: skipped after training: plt.show()"}) {
    EXPECT_TRUE(Contains(notes, line)) << line << "\n" << notes;
  }
  EXPECT_FALSE(Contains(notes, "_DATA_TEST_X")) << notes;
  EXPECT_FALSE(Contains(notes, "predictions = model.predict")) << notes;
  // What `cloudbook-maker import` prints: the notes, never silently.
  ImportWriteReport written;
  written.program_path = "P/original/p.yaml";
  written.working_dir = "P/distributed/working_dir";
  written.data_present.assign(imported.data_files.size(), true);
  std::ostringstream summary;
  PrintImportSummary(imported, written, "P", summary);
  EXPECT_TRUE(Contains(summary.str(),
                       "notes:\n  p.py:22: skipped after training: score = "
                       "model.evaluate(x_test, y_test)\n"))
      << summary.str();
}

TEST(KerasControl, WhatCouldChangeTheTrainingAfterFitIsRefused) {
  const std::string fit = "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)\n";
  for (const auto& [after, construct] : std::vector<std::pair<std::string, std::string>>{
           {"model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')\n",
            "'model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')'"},
           {"for i in range(2):\n    model.fit(x_train, y_train)\n",
            "'model.fit(x_train, y_train)'"},
           {"_NEURON_1 = 64\n", "'_NEURON_1 = 64'"},
           {"more()\n", "'more() (line 3: model.fit(x_train, y_train))'"}}) {
    const std::string text = "def more():\n    global model\n    model.fit(x_train, y_train)\n" +
                             Replace(kSmall, fit, fit + after);
    const std::string error = ImportError(text);
    const std::string line = Contains(construct, "x_train, y_train)'") ? "p.py:21: " : "p.py:20: ";
    EXPECT_TRUE(Contains(error, line + construct +
                                    " comes after the training (fit at line 19) and could "
                                    "change it"))
        << error;
  }
}

// Checking what a function called after fit does is bounded: calls nested 10 wide and 9 deep
// (10^9 paths) are refused at once rather than scanned.
TEST(KerasControl, CheckingCallsAfterFitIsBounded) {
  std::string prelude = "def f0():\n    pass\n";
  for (int i = 1; i <= 9; ++i) {
    prelude += "def f" + std::to_string(i) + "():\n";
    for (int call = 0; call < 10; ++call) prelude += "    f" + std::to_string(i - 1) + "()\n";
  }
  const std::string fit = "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)\n";
  const std::string error = ImportError(prelude + Replace(kSmall, fit, fit + "f9()\n"));
  EXPECT_TRUE(Contains(error, "calls nested too deeply to check")) << error;
}

}  // namespace
}  // namespace cloudbook
