// The importer's issue-17 layers: the new Keras layers with their defaults, the functional
// API with Add (residual blocks) as name / inputs, layers.Layer subclasses (the keras.io
// TransformerBlock, TokenAndPositionEmbedding, Patches, PatchEncoder, and subclasses that
// wire known layers), and the refusals with file:line. YAML checked as text.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "maker/keras_import/keras_import.h"
#include "tests/keras_import_test_programs.h"

namespace cloudbook {
namespace {

using keras_test::Contains;
using keras_test::Replace;
using keras_test::TestProgram;
using keras_test::Yaml;
using keras_test::YamlError;

// A functional program over MNIST rows (28 steps of 28 values); `body` builds `outputs` from
// `inputs` (line 12 on).
std::string Functional(const std::string& body, const std::string& before = "") {
  return R"(import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
)" + before +
         R"(#SKYNNET:BEGIN_MULTICLASS_ACC
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_NEURON_1 = 64
_NEURON_2 = 10
inputs = keras.Input(shape=(28, 28))
)" + body +
         R"(outputs = layers.Dense(_NEURON_2, activation='softmax')(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=1)
#SKYNNET:END
)";
}

TEST(KerasLayers1d, NewLayersMapWithKerasDefaults) {
  const std::string yaml =
      Yaml(Functional("x = layers.Conv1D(_NEURON_1, 3, padding='causal', dilation_rate=2)(inputs)\n"
                      "x = layers.Activation('swish')(x)\n"
                      "x = layers.MaxPooling1D()(x)\n"
                      "x = layers.AveragePooling1D(3, strides=1, padding='same')(x)\n"
                      "x = layers.Conv1D(16, kernel_size=(5,), activation='relu6')(x)\n"
                      "x = layers.ReLU(max_value=6)(x)\n"
                      "x = layers.Activation(tf.nn.silu)(x)\n"
                      "x = layers.GlobalMaxPooling1D()(x)\n"
                      "x = layers.Dense(32, activation='selu')(x)\n"
                      "x = layers.Dense(32, activation='softplus')(x)\n"
                      "x = layers.Dense(32, activation='softsign')(x)\n"));
  for (const char* line :
       {"    - conv1d: {filters: _NEURON_1, kernel: 3, dilation: 2, activation: swish, padding: "
        "causal}\n",
        "    - maxpool1d\n", "    - avgpool1d: {stride: 1, pool: 3, padding: same}\n",
        "    - conv1d: {filters: 16, kernel: 5, activation: relu6}\n",
        "    - activation: {activation: relu6}\n", "    - activation: {activation: swish}\n",
        "    - global_maxpool1d\n", "    - dense: {units: 32, activation: selu}\n",
        "    - dense: {units: 32, activation: softplus}\n",
        "    - dense: {units: 32, activation: softsign}\n"}) {
    EXPECT_TRUE(Contains(yaml, line)) << line << yaml;
  }
  const std::string normalized =
      Yaml(Functional("x = norm(inputs)\nx = layers.LayerNormalization()(x)\nx = "
                      "layers.GlobalAveragePooling1D()(x)\n",
                      "norm = layers.Normalization()\nnorm.adapt(x_train)\n"));
  EXPECT_TRUE(
      Contains(normalized, "    - normalization\n    - layernorm\n    - global_avgpool1d\n"))
      << normalized;
}

TEST(KerasLayers1d, ArgumentsThatCannotBeCarriedAreRefusedWithTheLine) {
  for (const auto& [layer, message] : std::vector<std::pair<std::string, std::string>>{
           {"layers.Conv1D(8, 3, groups=2)", "groups=2 is not supported"},
           {"layers.LayerNormalization(axis=1)", "axis=1 is not supported"},
           {"layers.ReLU(negative_slope=0.1)", "ReLU's negative_slope cannot be carried"},
           {"layers.MaxPooling1D(2, padding='causal')",
            "'causal' is not supported; valid: valid, "
            "same"},
           {"layers.Activation('hard_sigmoid')", "'hard_sigmoid' is not supported"},
           {"layers.MultiHeadAttention(2, 16, attention_axes=1)",
            "attention_axes=1 is not "
            "supported"}}) {
    const std::string error = YamlError(Functional("x = " + layer + "(inputs)\n"));
    EXPECT_TRUE(Contains(error, "p.py:12: '" + layer + "'")) << error;
    EXPECT_TRUE(Contains(error, message)) << error;
  }
  EXPECT_TRUE(
      Contains(YamlError(Replace(Functional("x = layers.Flatten()(inputs)\n"),
                                 "outputs = layers.Dense(_NEURON_2, activation='softmax')(x)\n"
                                 "model = keras.Model(inputs, outputs)\n",
                                 "model = keras.Sequential([layers.Input((28, 28)), "
                                 "layers.MultiHeadAttention(2, 4), layers.Flatten(), "
                                 "layers.Dense(_NEURON_2, activation='softmax')])\n")),
               "p.py:13: 'layers.MultiHeadAttention(2, 4)' in Sequential([...]): it takes "
               "several inputs"));
  std::string error =
      YamlError(Functional("x = norm(inputs)\n", "norm = layers.Normalization()\n"));
  EXPECT_TRUE(Contains(error, "a Normalization layer that is never adapted")) << error;
  error = YamlError(
      Functional("x = norm(inputs)\n", "norm = layers.Normalization()\nnorm.adapt(x_test)\n"));
  EXPECT_TRUE(Contains(error, "adapted to other data than fit's training inputs")) << error;
  error = YamlError(Functional("d = layers.Dense(28)\nx = d(inputs)\nx = d(x)\n"));
  EXPECT_TRUE(Contains(error, "p.py:14: 'd(x)' applies a layer object a second time")) << error;
}

TEST(KerasLayersDag, FunctionalAddAndAttentionBecomeNamesAndInputs) {
  const std::string yaml =
      Yaml(Functional("h = layers.Dense(28, activation='relu')(inputs)\n"
                      "x = layers.Dense(28)(h)\n"
                      "x = layers.Add()([h, x])\n"
                      "a = layers.MultiHeadAttention(num_heads=2, key_dim=14)(x, x)\n"
                      "x = layers.LayerNormalization(epsilon=1e-6)(x + a)\n"
                      "c = layers.MultiHeadAttention(2, 7, dropout=0.1)(x, inputs)\n"
                      "x = layers.Flatten()(c)\n"));
  const std::string expected =
      "    - dense: {units: 28, activation: relu, name: dense_1}\n"
      "    - dense: {units: 28, name: dense_2}\n"
      "    - add: {name: add_1, inputs: [dense_1, dense_2]}\n"
      "    - multihead_attention: {heads: 2, key_dim: 14, name: multihead_attention_1}\n"
      "    - add: {inputs: [add_1, multihead_attention_1]}\n"
      "    - layernorm: {epsilon: 1e-06, name: layernorm_1}\n"
      "    - multihead_attention: {heads: 2, key_dim: 7, dropout: 0.1, inputs: [layernorm_1, "
      "input]}\n"
      "    - flatten\n";
  EXPECT_TRUE(Contains(yaml, expected)) << yaml;
}

TEST(KerasLayerClasses, KerasIoTransformerClassesBecomeTheirWords) {
  const std::string text = TestProgram("transformer_text.py");
  const std::string yaml = Yaml(text);
  EXPECT_TRUE(Contains(yaml,
                       "  layers:\n"
                       "    - token_position_embedding: {maxlen: 200, vocab_size: 20000, "
                       "embed_dim: _EMBEDDING_1}\n"
                       "    - transformer_block: {heads: 2, ff_dim: _NEURON_1, rate: 0.1, "
                       "epsilon: 1e-06}\n"
                       "    - global_avgpool1d\n"))
      << yaml;
  // The same block with another feed-forward activation is not keras.io's: its layers are
  // inlined instead, wired by name / inputs.
  const std::string gelu = Yaml(Replace(text, "layers.Dense(ff_dim, activation=\"relu\")",
                                        "layers.Dense(ff_dim, activation=\"gelu\")"));
  EXPECT_TRUE(Contains(gelu,
                       "embed_dim: _EMBEDDING_1, name: token_position_embedding_1}\n"
                       "    - multihead_attention: {heads: 2, key_dim: _EMBEDDING_1}\n"
                       "    - dropout: {rate: 0.1, name: dropout_1}\n"
                       "    - add: {inputs: [token_position_embedding_1, dropout_1]}\n"
                       "    - layernorm: {epsilon: 1e-06, name: layernorm_1}\n"
                       "    - dense: {units: _NEURON_1, activation: gelu}\n"
                       "    - dense: {units: _EMBEDDING_1}\n"
                       "    - dropout: {rate: 0.1, name: dropout_2}\n"
                       "    - add: {inputs: [layernorm_1, dropout_2]}\n"))
      << gelu;
  EXPECT_FALSE(Contains(gelu, "transformer_block")) << gelu;
  // Applied twice: Keras would share the weights.
  const std::string error = YamlError(Replace(
      text, "x = transformer_block(x)\n", "x = transformer_block(x)\nx = transformer_block(x)\n"));
  EXPECT_TRUE(Contains(error,
                       "p.py:68: 'transformer_block(x)' applies the TransformerBlock "
                       "object a second time"))
      << error;
}

TEST(KerasLayerClasses, VisionTransformerPatchesAndLoopsOfLayers) {
  auto imported = KerasProgramYaml(TestProgram("vit_patches.py"), "vit_patches.py", "vit");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  const std::string& yaml = *imported;
  EXPECT_TRUE(Contains(yaml,
                       "    - patches: {size: 7}\n"
                       "    - patch_encoder: {num_patches: 16, projection_dim: _EMBEDDING_1, "
                       "name: patch_encoder_1}\n"
                       "    - layernorm: {epsilon: 1e-06}\n"
                       "    - multihead_attention: {heads: 2, key_dim: _EMBEDDING_1, "
                       "dropout: 0.1, name: multihead_attention_1}\n"
                       "    - add: {name: add_1, inputs: [multihead_attention_1, "
                       "patch_encoder_1]}\n"))
      << yaml;
  EXPECT_TRUE(Contains(yaml, "    - add: {inputs: [dropout_4, add_3]}\n")) << yaml;
  EXPECT_TRUE(Contains(yaml, "    - dense: {units: _NEURON_2, activation: gelu}\n")) << yaml;
}

TEST(KerasLayerClasses, SubclassesWiringKnownLayersAreInlinedOthersRefused) {
  const std::string residual =
      "class Residual(layers.Layer):\n"
      "    def __init__(self, units, **kwargs):\n"
      "        super().__init__(**kwargs)\n"
      "        self.inner = layers.Dense(units, activation='relu')\n"
      "        self.outer = layers.Dense(28)\n"
      "    def call(self, x):\n"
      "        return self.helper(x) + x\n"
      "    def helper(self, x):\n"
      "        return self.outer(self.inner(x))\n";
  const std::string yaml = Yaml(Functional("x = Residual(units=_NEURON_1)(inputs)\n", residual));
  EXPECT_TRUE(Contains(yaml,
                       "    - dense: {units: _NEURON_1, activation: relu}\n"
                       "    - dense: {units: 28, name: dense_2}\n"
                       "    - add: {inputs: [dense_2, input]}\n"))
      << yaml;
  const std::string opaque =
      "class Gate(layers.Layer):\n"
      "    def __init__(self):\n"
      "        super().__init__()\n"
      "        self.dense = layers.Dense(28)\n"
      "    def call(self, x):\n"
      "        return tf.sigmoid(self.dense(x)) * x\n";
  const std::string error = YamlError(Functional("x = Gate()(inputs)\n", opaque));
  EXPECT_TRUE(Contains(error,
                       "p.py:18: 'Gate()(inputs)': the layer class Gate (line 6) cannot "
                       "be imported"))
      << error;
}

}  // namespace
}  // namespace cloudbook
