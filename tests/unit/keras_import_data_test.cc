// The importer's data idioms (issue 17) and the data words they become
// (docs/design/issue17-plan.md): validation_data, label maps over the class ids, slices
// to rows, numpy's seeded permutation / choice and sklearn's shuffle, np.load, imdb +
// pad_sequences, image folders; and the refusals, with file:line, of what cannot be carried.
// The YAML is checked as text (KerasProgramYaml), independent of the maker's parser.
#include <gtest/gtest.h>

#include <string>

#include "maker/keras_import/keras_import.h"
#include "tests/keras_import_test_programs.h"

namespace cloudbook {
namespace {

using keras_test::Contains;
using keras_test::kSmall;
using keras_test::Replace;
using keras_test::Yaml;
using keras_test::YamlError;

// kSmall with `prepare` before the block and fit's line replaced by `fit`.
std::string Program(const std::string& prepare, const std::string& fit) {
  return Replace(Replace(Replace(kSmall, "#SKYNNET:BEGIN", prepare + "#SKYNNET:BEGIN"),
                         "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)\n", fit),
                 "import tensorflow as tf\n", "import tensorflow as tf; import numpy as np\n");
}

TEST(KerasData, ValidationDataBecomesTheValidationSplit) {
  const std::string yaml =
      Yaml(Program("x_val = np.load('val/x.npy') / 255.0\ny_val = np.load('val/y.npy')\n",
                   "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS, "
                   "validation_data=(x_val, y_val))\n"));
  EXPECT_TRUE(Contains(yaml,
                       "  validation:\n    x: {format: npy, path: \"val/x.npy\", scale: 255}\n"
                       "    y: {format: npy, path: \"val/y.npy\"}\n"))
      << yaml;
  EXPECT_FALSE(Contains(yaml, "validation_split")) << yaml;
  const std::string error =
      YamlError(Program("", "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, validation_data=x_test)\n"));
  EXPECT_TRUE(Contains(error,
                       "p.py:16: 'model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, "
                       "validation_data=x_test)': validation_data must be a pair"))
      << error;
}

TEST(KerasData, LabelMapsAreEvaluatedOverTheClassIds) {
  for (const auto& [map, expected] : std::vector<std::pair<std::string, std::string>>{
           {"np.where(y % 2 == 0, 0, 1)", "[0, 1, 0, 1, 0, 1, 0, 1, 0, 1]"},
           {"(y == 3).astype(int)", "[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]"},
           {"np.where((y == 1) | (y == 7), 1, 0)", "[0, 1, 0, 0, 0, 0, 0, 1, 0, 0]"},
           {"y // 5", "[0, 0, 0, 0, 0, 1, 1, 1, 1, 1]"}}) {
    const std::string prepare = "def relabel(y):\n    return " + map + "\n" +
                                "y_train = relabel(y_train)\ny_test = relabel(y_test)\n";
    const std::string yaml =
        Yaml(Program(prepare,
                     "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)\n"
                     "_DATA_TEST_X = x_test\n_DATA_TEST_Y = y_test\n"));
    EXPECT_TRUE(Contains(yaml, "  label_map: " + expected + "\n")) << map << "\n" << yaml;
    EXPECT_TRUE(Contains(yaml, "  test:\n")) << yaml;
  }
  // The test labels left unmapped: refused, the format has one map for every split.
  std::string error = YamlError(
      Program("y_train = np.where(y_train % 2 == 0, 0, 1)\n",
              "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)\n_DATA_TEST_X = x_test\n"
              "_DATA_TEST_Y = y_test\n"));
  EXPECT_TRUE(Contains(error,
                       "the test labels are mapped differently from the training "
                       "labels ([0, 1, 0, 1, 0, 1, 0, 1, 0, 1] at line 4, unmapped)"))
      << error;
  error =
      YamlError(Program("y_train = y_train / 2\n", "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y)\n"));
  EXPECT_TRUE(Contains(error, "p.py:4: the label map gives [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]") ||
              Contains(error, "each new label must be a whole number"))
      << error;
}

TEST(KerasData, SlicesBecomeRowsAndSeededDrawsShuffleOrSubset) {
  std::string yaml =
      Yaml(Program("x_train, y_train = x_train[:5000], y_train[:5000]\n"
                   "np.random.seed(7)\nidx = np.random.permutation(len(x_train))\n"
                   "x_train = x_train[idx]\ny_train = y_train[idx]\n",
                   "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)\n"
                   "predictions = model.predict(x_test[-10:])\n_DATA_TEST_Y = y_test[-10:]\n"));
  EXPECT_TRUE(Contains(yaml, "  train_rows: \"0:5000\"\n")) << yaml;
  EXPECT_TRUE(Contains(yaml, "  test_rows: \"-10:\"\n")) << yaml;
  EXPECT_TRUE(Contains(yaml, "  shuffle: {seed: 7}\n")) << yaml;
  yaml =
      Yaml(Program("np.random.seed(3)\n"
                   "idx = np.random.choice(len(x_train), 1000, replace=False)\n"
                   "x_train, y_train = x_train[idx], y_train[idx]\n",
                   "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y)\n"));
  EXPECT_TRUE(Contains(yaml, "  train_subset: {count: 1000, seed: 3}\n")) << yaml;
  yaml =
      Yaml(Program("from sklearn.utils import shuffle\n"
                   "x_train, y_train = shuffle(x_train, y_train, random_state=11)\n",
                   "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y)\n"));
  EXPECT_TRUE(Contains(yaml, "  shuffle: {seed: 11}\n")) << yaml;
  yaml =
      Yaml(Program("np.random.seed(5)\nidx = np.random.permutation(x_train.shape[0])[:200]\n"
                   "x_train, y_train = x_train[idx], y_train[idx]\n",
                   "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y)\n"));
  EXPECT_TRUE(Contains(yaml, "  train_subset: {count: 200, seed: 5}\n")) << yaml;

  yaml =
      Yaml(Program("np.random.seed(9)\nidx = np.arange(len(x_train))\nnp.random.shuffle(idx)\n"
                   "x_train, y_train = x_train[idx], y_train[idx]\n",
                   "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y)\n"));
  EXPECT_TRUE(Contains(yaml, "  shuffle: {seed: 9}\n")) << yaml;

  // Refusals: x and y taken differently, an unseeded draw, a slice with a step, x shuffled
  // in place alone (its value is forgotten, never used unshuffled).
  EXPECT_TRUE(Contains(YamlError(Program("np.random.seed(1)\nnp.random.shuffle(x_train)\n",
                                         "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y)\n")),
                       "shuffles in place what the importer cannot follow"));
  std::string error =
      YamlError(Program("x_train = x_train[:5000]\n", "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y)\n"));
  EXPECT_TRUE(
      Contains(error, "p.py:17: the training inputs and targets take different rows (line 4)"))
      << error;
  error =
      YamlError(Program("idx = np.random.permutation(len(x_train))\nx_train = x_train[idx]\n"
                        "y_train = y_train[idx]\n",
                        "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y)\n"));
  EXPECT_TRUE(Contains(error, "draws rows without a seed")) << error;
  EXPECT_TRUE(Contains(error, "(line 4)")) << error;
  error = YamlError(Program("x_train, y_train = x_train[::2], y_train[::2]\n",
                            "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y)\n"));
  EXPECT_TRUE(Contains(error, "a slice with a step")) << error;
}

TEST(KerasData, NumpyFilesAndImdbSequences) {
  std::string yaml =
      Yaml(Replace(Program("data = np.load('arrays/mnist.npz')\nx_train = data['x_train'] / 255.0\n"
                           "y_train = data['y_train']\n",
                           "model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y)\n"),
                   "x_train = x_train / 255.0\n", ""));
  EXPECT_TRUE(Contains(yaml,
                       "    x: {format: npz, path: \"arrays/mnist.npz\", key: \"x_train\", "
                       "scale: 255}\n    y: {format: npz, path: \"arrays/mnist.npz\", key: "
                       "\"y_train\"}\n"))
      << yaml;
  const std::string imdb = R"(import numpy as np
from tensorflow import keras
from tensorflow.keras import layers
(x_train, y_train), (x_val, y_val) = keras.datasets.imdb.load_data(num_words=20000)
x_train = keras.utils.pad_sequences(x_train, maxlen=200)
x_val = keras.preprocessing.sequence.pad_sequences(x_val, maxlen=200, padding='post')
#SKYNNET:BEGIN_BINARYCLASS_ACC
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_EMBEDDING_1 = 32
_NEURON_1 = 2
model = keras.Sequential([
    layers.Embedding(20000, _EMBEDDING_1, input_length=200),
    layers.Flatten(),
    layers.Dense(_NEURON_1, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=2, validation_data=(x_val, y_val))
#SKYNNET:END
)";
  yaml = Yaml(imdb);
  EXPECT_TRUE(Contains(yaml,
                       "    x: {format: sequences, path: \"imdb/train.txt\", maxlen: 200, "
                       "padding: pre, truncating: pre, value: 0, num_words: 20000, oov: 2}\n"
                       "    y: {format: npy, path: \"imdb/y_train.npy\"}\n"))
      << yaml;
  EXPECT_TRUE(Contains(yaml,
                       "  validation:\n    x: {format: sequences, path: \"imdb/test.txt\", "
                       "maxlen: 200, padding: post,"))
      << yaml;
  EXPECT_TRUE(Contains(yaml, "input_dtype: int64")) << yaml;
  EXPECT_TRUE(Contains(YamlError(Replace(imdb, "num_words=20000", "num_words=20000, skip_top=10")),
                       "p.py:4: 'keras.datasets.imdb.load_data(num_words=20000, skip_top=10)': "
                       "imdb.load_data's skip_top cannot be carried"));
  // load_data's own maxlen drops long reviews: carried by the conversion script's
  // --drop-longer-than (named in the summary's notes), so accepted.
  EXPECT_TRUE(Contains(Yaml(Replace(imdb, "num_words=20000", "num_words=20000, maxlen=400")),
                       "path: \"imdb/train.txt\""));
  EXPECT_TRUE(Contains(YamlError(Replace(imdb,
                                         "x_train = keras.utils.pad_sequences(x_train, "
                                         "maxlen=200)\n",
                                         "")),
                       "must be padded to one length with pad_sequences"));
}

TEST(KerasData, ImageFoldersAndTensorflowDatasets) {
  const std::string cnn = R"(import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
train_ds = keras.utils.image_dataset_from_directory('flowers/train', image_size=(64, 64),
                                                    batch_size=16)
test_ds = keras.utils.image_dataset_from_directory('flowers/test', image_size=(64, 64))
train_ds = train_ds.prefetch(buffer_size=32)
#SKYNNET:BEGIN_MULTICLASS_ACC
_FILTERS_1 = 16
_NEURON_1 = 5
model = keras.Sequential([
    keras.Input(shape=(64, 64, 3)),
    layers.Conv2D(_FILTERS_1, 3, activation='relu'),
    layers.GlobalAveragePooling2D(),
    layers.Dense(_NEURON_1, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
model.fit(train_ds, epochs=3)
model.evaluate(test_ds)
#SKYNNET:END
)";
  const std::string yaml = Yaml(cnn);
  EXPECT_TRUE(Contains(yaml,
                       "  train:\n    images: {path: \"flowers/train\", color: rgb}\n"
                       "  test:\n    images: {path: \"flowers/test\", color: rgb}\n"))
      << yaml;
  EXPECT_TRUE(Contains(yaml, "batch_size: 16")) << yaml;
  // keras.io's Rescaling(1.0 / 255) as the first layer: the folders' scale.
  const std::string rescaled =
      Yaml(Replace(cnn, "    keras.Input(shape=(64, 64, 3)),\n",
                   "    keras.Input(shape=(64, 64, 3)),\n    layers.Rescaling(1.0 / 255),\n"));
  EXPECT_TRUE(Contains(rescaled, "    images: {path: \"flowers/train\", color: rgb, scale: 255}\n"))
      << rescaled;
  EXPECT_TRUE(Contains(rescaled, "  layers:\n    - conv2d:")) << rescaled;
  EXPECT_TRUE(Contains(YamlError(Replace(cnn, "    layers.GlobalAveragePooling2D(),\n",
                                         "    layers.Rescaling(2.0),\n"
                                         "    layers.GlobalAveragePooling2D(),\n")),
                       "p.py:14: Rescaling is carried only as the first layer"));
  std::string error = YamlError(Replace(cnn, "batch_size=16",
                                        "validation_split=0.2, "
                                        "subset='training', seed=1"));
  EXPECT_TRUE(Contains(error, "p.py:4: 'keras.utils.image_dataset_from_directory('flowers/train'"))
      << error;
  EXPECT_TRUE(Contains(error, "validation_split / subset cannot be carried exactly")) << error;
  error = YamlError(Replace(cnn, "image_size=(64, 64))",
                            "image_size=(64, 64), "
                            "label_mode='categorical')"));
  EXPECT_TRUE(Contains(error, "label_mode=categorical cannot be carried")) << error;
  error =
      YamlError(Replace(Replace(cnn, "import tensorflow as tf\n",
                                "import tensorflow as tf\nimport tensorflow_datasets as tfds\n"),
                        "train_ds = train_ds.prefetch(buffer_size=32)\n",
                        "train_ds = tfds.load('tf_flowers', split='train', as_supervised=True)\n"));
  EXPECT_TRUE(Contains(error,
                       "p.py:8: 'tfds.load('tf_flowers', split='train', as_supervised=True)"
                       "': tensorflow_datasets downloads its data"))
      << error;
  EXPECT_TRUE(Contains(error, "image_dataset_from_directory (images:)")) << error;
}

}  // namespace
}  // namespace cloudbook
