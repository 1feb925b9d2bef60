// tensorflow_datasets in imported Keras programs (issue 17): tfds.load('mnist' |
// 'fashion_mnist', as_supervised=True) becomes the IDX files keras.datasets gives (samples
// [28, 28, 1]); .map of a scaling function, .batch (fit's batches), .shuffle / .cache /
// .prefetch are followed, fit / evaluate / validation_data take the data sets, and
// tfds.as_numpy(tfds.load(..., batch_size=-1)) gives the arrays. Every refusal names its
// file:line and construct. The YAML is checked as text, independent of the maker's parser.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "maker/keras_import/keras_import.h"
#include "tests/keras_import_test_programs.h"

namespace cloudbook {
namespace {

using keras_test::Contains;
using keras_test::ImportError;
using keras_test::ImportTextOrDie;
using keras_test::Replace;
using keras_test::Yaml;

// Line 5 prepares the training data set, line 11 is fit, line 12 evaluate.
const char kTfds[] = R"(import tensorflow as tf
import tensorflow_datasets as tfds

ds_train, ds_test = tfds.load('mnist', split=['train', 'test'], as_supervised=True)
ds_train = ds_train.map(lambda x, y: (x / 255, y)).batch(64)
ds_test = ds_test.map(lambda x, y: (x / 255, y)).batch(64)
#SKYNNET:BEGIN_MULTICLASS_ACC
_NEURON_1 = 10
model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(28, 28, 1)), tf.keras.layers.Dense(_NEURON_1, activation='softmax')])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
model.fit(ds_train, epochs=2)
model.evaluate(ds_test)
#SKYNNET:END
)";

std::string Notes(const KerasImport& imported) {
  std::string text;
  for (const std::string& note : imported.summary_notes) text += note + "\n";
  return text;
}

const char kMnistTrain[] =
    "x: {format: idx, path: \"mnist/train-images-idx3-ubyte.gz\", scale: 255}\n"
    "    y: {format: idx, path: \"mnist/train-labels-idx1-ubyte.gz\"}\n";

TEST(KerasTfds, LoadBecomesTheIdxFilesOfTheKerasDataSet) {
  const std::string yaml = Yaml(kTfds);
  EXPECT_TRUE(Contains(yaml, std::string("  train:\n    ") + kMnistTrain)) << yaml;
  EXPECT_TRUE(
      Contains(yaml,
               "  test:\n    x: {format: idx, path: \"mnist/t10k-images-idx3-ubyte.gz\", "
               "scale: 255}\n    y: {format: idx, path: \"mnist/t10k-labels-idx1-ubyte.gz\"}"))
      << yaml;
  EXPECT_TRUE(Contains(yaml, "batch_size: 64")) << yaml;
  const KerasImport imported = ImportTextOrDie(kTfds);
  EXPECT_EQ(imported.program.train.batch_size, 64);
  EXPECT_EQ(imported.program.model.input_shape, (std::vector<int64_t>{28, 28, 1}));
  ASSERT_EQ(imported.data_files.size(), 4u);
  EXPECT_EQ(imported.data_files[0].path, "mnist/train-images-idx3-ubyte.gz");
  EXPECT_EQ(imported.data_files[0].dataset, "mnist");
  const std::string notes = Notes(imported);
  EXPECT_TRUE(Contains(notes,
                       "p.py:4: tfds.load's records come in another order than the IDX "
                       "files cloudbook reads (the same samples"))
      << notes;
  EXPECT_TRUE(Contains(notes,
                       "p.py:11: the data set has no .shuffle(), so Keras reads it in "
                       "the same order every epoch; cloudbook shuffles"))
      << notes;
}

TEST(KerasTfds, FashionMnistSplitsADefMapAndCast) {
  const std::string program = Replace(
      Replace(Replace(kTfds,
                      "ds_train, ds_test = tfds.load('mnist', split=['train', 'test'], "
                      "as_supervised=True)\n",
                      "ds_train = tfds.load('fashion_mnist:3.*.*', split='train', "
                      "as_supervised=True, shuffle_files=True)\n"
                      "def scale(image, label):\n"
                      "    return tf.cast(image, tf.float32) / 255., label\n"
                      "ds_test, info = tfds.load(name='fashion_mnist', split=tfds.Split.TEST, "
                      "as_supervised=True, with_info=True)\n"),
              "ds_train.map(lambda x, y: (x / 255, y)).batch(64)",
              "ds_train.map(scale, num_parallel_calls=tf.data.AUTOTUNE).cache()"
              ".shuffle(60000).batch(32).prefetch(tf.data.AUTOTUNE)"),
      "ds_test.map(lambda x, y: (x / 255, y)).batch(64)",
      "ds_test.map(lambda img, lbl: (tf.image.convert_image_dtype(img, tf.float32), lbl))"
      ".batch(128)");
  const std::string yaml = Yaml(program);
  EXPECT_TRUE(Contains(yaml,
                       "x: {format: idx, path: \"fashion-mnist/train-images-idx3-ubyte.gz\","
                       " scale: 255}\n"))
      << yaml;
  EXPECT_TRUE(Contains(yaml,
                       "x: {format: idx, path: \"fashion-mnist/t10k-images-idx3-ubyte.gz\","
                       " scale: 255}\n"))
      << yaml;
  EXPECT_TRUE(Contains(yaml, "batch_size: 32")) << yaml;
  const std::string notes = Notes(ImportTextOrDie(program));
  EXPECT_TRUE(Contains(notes, ".shuffle of the whole split: cloudbook shuffles")) << notes;
  // A buffer smaller than the split, or a shuffle of batches, is a different shuffle: noted.
  EXPECT_TRUE(
      Contains(Notes(ImportTextOrDie(Replace(program, ".shuffle(60000)", ".shuffle(1000)"))),
               "may be smaller than the split, a partial shuffle"));
  EXPECT_TRUE(Contains(Notes(ImportTextOrDie(Replace(Replace(program, ".shuffle(60000)", ""),
                                                     ".batch(32)", ".batch(32).shuffle(10)"))),
                       ".shuffle after .batch shuffles whole batches"));
}

TEST(KerasTfds, AsNumpyOfAWholeSplitGivesTheArrays) {
  const std::string program = Replace(
      Replace(Replace(Replace(kTfds,
                              "ds_train, ds_test = tfds.load('mnist', split=['train', 'test'], "
                              "as_supervised=True)\n",
                              "(x_train, y_train), (x_test, y_test) = tfds.as_numpy(tfds.load("
                              "'mnist', split=['train', 'test'], batch_size=-1, "
                              "as_supervised=True))\n"),
                      "ds_train = ds_train.map(lambda x, y: (x / 255, y)).batch(64)\n",
                      "x_train = x_train / 255.0\n"),
              "ds_test = ds_test.map(lambda x, y: (x / 255, y)).batch(64)\n",
              "x_test = x_test.astype('float32') / 255\n"),
      "model.fit(ds_train, epochs=2)\nmodel.evaluate(ds_test)\n",
      "model.fit(x_train, y_train, epochs=2, batch_size=16)\nmodel.evaluate(x_test, y_test)\n");
  const std::string yaml = Yaml(program);
  EXPECT_TRUE(Contains(yaml, std::string("  train:\n    ") + kMnistTrain)) << yaml;
  EXPECT_TRUE(Contains(yaml, "path: \"mnist/t10k-images-idx3-ubyte.gz\", scale: 255}")) << yaml;
  EXPECT_TRUE(Contains(yaml, "batch_size: 16")) << yaml;
}

TEST(KerasTfds, OtherDataSetsAndArgumentsAreRefusedWithTheirLine) {
  for (const auto& [load, why] : std::vector<std::pair<std::string, std::string>>{
           {"tfds.load('cifar10', split=['train', 'test'], as_supervised=True)",
            "tfds.load is read for 'mnist' and 'fashion_mnist' only"},
           {"tfds.load('mnist', split=['train[:80%]', 'test'], as_supervised=True)",
            "sub-splits such as 'train[:80%]'"},
           {"tfds.load('mnist', split=['train', 'test'])", "write as_supervised=True"},
           {"tfds.load('mnist', split=['train', 'test'], as_supervised=True, decoders=None)",
            "tfds.load's argument 'decoders' is not followed"},
       }) {
    const std::string error = ImportError(
        Replace(kTfds, "tfds.load('mnist', split=['train', 'test'], as_supervised=True)", load));
    EXPECT_TRUE(Contains(error, "p.py:4: '" + load + "': ")) << error;
    EXPECT_TRUE(Contains(error, why)) << error;
  }
  const std::string error = ImportError(Replace(kTfds, "'mnist'", "'imdb_reviews'"));
  EXPECT_TRUE(Contains(error, "np.load('x.npy') / .npz (format: npy / npz)")) << error;
  EXPECT_TRUE(Contains(error, "image_dataset_from_directory (images:)")) << error;
  EXPECT_TRUE(Contains(error, "(format: sequences)")) << error;
}

TEST(KerasTfds, PipelineStepsThatCannotBeCarriedAreRefusedWhereUsed) {
  const std::string line5 = "ds_train.map(lambda x, y: (x / 255, y))";
  for (const std::string step :
       {".take(1000)", ".skip(10)", ".repeat()", ".filter(keep)", ".unbatch()"}) {
    const std::string error =
        ImportError(Replace(kTfds, line5 + ".batch(64)", line5 + step + ".batch(64)"));
    EXPECT_TRUE(Contains(error, "p.py:11: 'model.fit(ds_train, epochs=2)'")) << error;
    EXPECT_TRUE(Contains(error, "'" + line5 + step + "' (" + step.substr(0, step.find('(')) +
                                    " on a tensorflow_datasets data set) cannot be carried"))
        << error;
    EXPECT_TRUE(Contains(error, "(line 5)")) << error;
  }
  for (const auto& [from, to, why] : std::vector<std::array<std::string, 3>>{
           {"(x / 255, y)", "(tf.image.resize(x, (32, 32)), y)", "(map) gives"},
           {"(x / 255, y)", "(x / 255, x)", "(map) changes the data"},
           {".batch(64)", ".batch(64, drop_remainder=True)", "drops the last, smaller batch"},
           {".batch(64)", ".batch(64).batch(2)", "batches a data set batched already (line 5)"},
       }) {
    const std::string error =
        ImportError(Replace(kTfds, line5 + ".batch(64)", Replace(line5 + ".batch(64)", from, to)));
    EXPECT_TRUE(Contains(error, "p.py:11: 'model.fit(ds_train, epochs=2)'")) << error;
    EXPECT_TRUE(Contains(error, why)) << error;
    EXPECT_TRUE(Contains(error, "(line 5)")) << error;
  }
  std::string error = ImportError(Replace(kTfds, "epochs=2)", "epochs=2, batch_size=32)"));
  EXPECT_TRUE(Contains(error,
                       "p.py:11: 'model.fit(ds_train, epochs=2, batch_size=32)': fit on "
                       "a data set takes neither y nor batch_size"))
      << error;
  error = ImportError(Replace(kTfds, line5 + ".batch(64)", line5));
  EXPECT_TRUE(Contains(error,
                       "p.py:11: 'model.fit(ds_train, epochs=2)': the training data set "
                       "(tfds.load at line 4) is not batched"))
      << error;
}

}  // namespace
}  // namespace cloudbook
