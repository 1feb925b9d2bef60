// Helpers of the importer's unit tests (tests/unit/keras_import*_test.cc): a small valid
// original-style program to change, the example programs under tests/testdata/keras/, and
// imports that must succeed or fail. Test-only; header-only.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "maker/deconstruction.h"
#include "maker/keras_import/keras_import.h"
#include "tests/test_support.h"

namespace cloudbook::keras_test {

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline std::string TestProgram(const std::string& name) {
  return testing::ReadFileOrDie(std::string(CLOUDBOOK_SOURCE_DIR) + "/tests/testdata/keras/" +
                                name);
}

inline KerasImport ImportOrDie(const std::string& file) {
  auto imported = ImportKerasProgram(TestProgram(file), file, ProgramNameFor(file));
  EXPECT_TRUE(imported.ok()) << imported.status().ToString();
  return imported.ok() ? *imported : KerasImport{};
}

inline KerasImport ImportTextOrDie(const std::string& text) {
  auto imported = ImportKerasProgram(text, "p.py", "p");
  EXPECT_TRUE(imported.ok()) << imported.status().ToString();
  return imported.ok() ? *imported : KerasImport{};
}

inline std::string ImportError(const std::string& text, const std::string& source = "p.py") {
  auto imported = ImportKerasProgram(text, source, "p");
  EXPECT_FALSE(imported.ok());
  return imported.ok() ? "" : imported.status().message();
}

// A small valid program to break in the tests.
inline const char kSmall[] = R"(import tensorflow as tf
(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
x_train = x_train / 255.0
#SKYNNET:BEGIN_MULTICLASS_ACC_LOSS
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_NEURON_1 = 32
_NEURON_2 = 10
_EPOCHS = 2
model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(_NEURON_1, activation='relu'),
    tf.keras.layers.Dense(_NEURON_2, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)
#SKYNNET:END
)";

inline std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The written program of an import that must succeed ("" after a failure), or the message
// of one that must fail.
inline std::string Yaml(const std::string& text) {
  auto yaml = KerasProgramYaml(text, "p.py", "p");
  EXPECT_TRUE(yaml.ok()) << yaml.status().ToString();
  return yaml.ok() ? *yaml : "";
}

inline std::string YamlError(const std::string& text) {
  auto yaml = KerasProgramYaml(text, "p.py", "p");
  EXPECT_FALSE(yaml.ok()) << *yaml;
  return yaml.ok() ? "" : yaml.status().message();
}

// The subnets of `program` cut into `n`, or none after a failure.
inline std::vector<SubnetSpec> Subnets(const Program& program, int64_t n) {
  auto plan = PlanDeconstruction(program, n);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  if (!plan.ok()) return {};
  auto subnets = DeconstructProgram(program, *plan);
  EXPECT_TRUE(subnets.ok()) << subnets.status().ToString();
  return subnets.ok() ? *subnets : std::vector<SubnetSpec>{};
}

}  // namespace cloudbook::keras_test
