// The data words of issue 17 end to end: a real cloudbook-maker --local run per family, on
// data written here with python3-numpy (or Debian's Fashion-MNIST): (a) a binary problem made
// from Fashion-MNIST's ten classes with a label map, row slices, a seeded shuffle and subset;
// (b) an autoencoder on .npy/.npz arrays with an explicit validation set; (c) an embedding +
// GRU on token sequences padded and cut as pad_sequences does.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <string>

#include "shared/json_io.h"
#include "tests/test_support.h"
#include "tests/unit/numpy_reference.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::ScratchDir;

std::string Maker() { return std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker"; }

class DataWordsRun : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(project_.Join("original"));
    fs::create_directories(project_.Join("distributed/working_dir"));
  }
  std::string WorkingDir() const { return project_.Join("distributed/working_dir"); }

  // Runs the maker locally on `program`; returns the results file (null on failure).
  Json RunLocal(const std::string& program, const std::string& extra, std::string* log) {
    testing::WriteFile(project_.Join("original/words.yaml"), program);
    const testing::CommandResult run = testing::RunShellMerged(
        Maker() + " -p " + project_.path() + " --local --run-name words " + extra);
    *log = run.out;
    EXPECT_EQ(run.exit_code, 0) << run.out;
    auto results = ReadJsonFile(project_.Join("distributed/results/words.json"));
    EXPECT_TRUE(results.ok()) << results.status().ToString() << "\n" << run.out;
    return results.ok() ? *results : Json();
  }

  ScratchDir project_;
};

// Keras: y = np.where(y % 2 == 0, 0, 1); x_train[:4000], shuffled, 2000 drawn; x_test[-1000:].
TEST_F(DataWordsRun, BinaryFromFashionMnistThroughALabelMapAndRowWords) {
  if (!fs::exists(testing::FashionMnistDir() + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
  }
  fs::create_directory_symlink(testing::FashionMnistDir(), WorkingDir() + "/fashion-mnist");
  const std::string program = R"(name: words
problem: binary
data:
  train:
    x: {format: idx, path: fashion-mnist/train-images-idx3-ubyte.gz, scale: 255}
    y: {format: idx, path: fashion-mnist/train-labels-idx1-ubyte.gz}
  test:
    x: {format: idx, path: fashion-mnist/t10k-images-idx3-ubyte.gz, scale: 255}
    y: {format: idx, path: fashion-mnist/t10k-labels-idx1-ubyte.gz}
  validation_split: 0.1
  train_rows: "0:4000"
  test_rows: "-1000:"
  shuffle: {seed: 7}
  train_subset: {count: 2000, seed: 3}
  label_map: [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
vars: {_NEURON_1: 32, _NEURON_2: 2, _EPOCHS: 4}
model:
  input: [28, 28]
  layers:
    - flatten
    - dense: {units: _NEURON_1, activation: relu}
    - dense: {units: _NEURON_2, activation: softmax}
train:
  loss: sparse_categorical_crossentropy
  epochs: _EPOCHS
)";
  std::string log;
  const Json results = RunLocal(program, "", &log);
  ASSERT_TRUE(results.is_object());
  EXPECT_NE(log.find("1800 training, 200 validation, 1000 test samples"), std::string::npos) << log;
  // Even/odd Fashion-MNIST classes (tops, coat, shirt, bag vs trouser, dress, shoes): chance
  // is about 0.5; a small MLP on 1,800 samples separates them far better.
  EXPECT_GT(results["composed"]["metrics"]["accuracy"].get<double>(), 0.8) << log;
}

// Keras: model.fit(x, x, validation_data=(x_val, x_val)) with arrays from np.load.
TEST_F(DataWordsRun, AutoencoderOnNpyArraysWithAnExplicitValidationSet) {
  testing::RunNumpy(WorkingDir(), R"(
rng = np.random.RandomState(0)
basis = rng.uniform(0, 1, size=(3, 16))
def make(n):
    return (rng.uniform(0, 1, size=(n, 3)) @ basis / 3).astype(np.float32)
np.save('x_train.npy', make(600))
np.savez_compressed('held_out.npz', x_val=make(100).astype(np.float64), x_test=make(200))
)");
  const std::string program = R"(name: words
problem: regression
data:
  train:
    x: {format: npy, path: x_train.npy}
    y: same_as_x
  validation:
    x: {format: npz, path: held_out.npz, key: x_val}
    y: same_as_x
  test:
    x: {format: npz, path: held_out.npz, key: x_test}
    y: same_as_x
vars: {_NEURON_1: 8, _NEURON_2: 16, _EPOCHS: 60}
model:
  input: [16]
  layers:
    - dense: {units: _NEURON_1, activation: relu}
    - dense: {units: _NEURON_2, activation: sigmoid}
train:
  loss: mse
  epochs: _EPOCHS
)";
  std::string log;
  const Json results = RunLocal(program, "--subnets 2", &log);
  ASSERT_TRUE(results.is_object());
  EXPECT_NE(log.find("600 training, 100 validation, 200 test samples"), std::string::npos) << log;
  const Json& history = results["subnets"][0]["history"];
  ASSERT_FALSE(history.empty()) << results.dump();
  ASSERT_TRUE(history.back().contains("val_loss")) << history.dump();
  // Scored on the explicit validation set every epoch; it learns (loss more than halves).
  EXPECT_LT(history.back()["val_loss"].get<double>(), 0.5 * history[0]["val_loss"].get<double>())
      << history.dump();
  EXPECT_LT(results["composed"]["metrics"]["mse"].get<double>(), 0.02) << log;
}

// Keras: imdb-like load_data(num_words=30) + pad_sequences(maxlen=12) into Embedding + GRU.
TEST_F(DataWordsRun, EmbeddingAndGruOnPaddedTokenSequences) {
  testing::RunNumpy(WorkingDir(), R"(
rng = np.random.RandomState(1)
def make(n, name):
    labels = rng.randint(0, 2, size=n)
    with open(name + '.txt', 'w') as f:
        for label in labels:
            length = rng.randint(3, 20)
            ids = rng.randint(3, 50, size=length)     # ids >= 30 become oov
            marks = rng.randint(0, length, size=max(1, length // 3))
            ids[marks] = 10 + label                   # 10 = negative, 11 = positive
            f.write(', '.join(map(str, [1] + list(ids))) + '\n')
    np.save(name + '_y.npy', labels.astype(np.int64))
make(1200, 'train'); make(300, 'test')
)");
  const std::string program = R"(name: words
problem: binary
data:
  train:
    x: {format: sequences, path: train.txt, maxlen: 12, num_words: 30}
    y: {format: npy, path: train_y.npy}
  test:
    x: {format: sequences, path: test.txt, maxlen: 12, num_words: 30}
    y: {format: npy, path: test_y.npy}
  validation_split: 0.1
vars: {_EMBEDDING_1: 16, _CELL_1: 16, _NEURON_1: 2, _EPOCHS: 6}
model:
  input: [12]
  input_dtype: int64
  layers:
    - embedding: {input_dim: 30, output_dim: _EMBEDDING_1}
    - gru: {units: _CELL_1}
    - dense: {units: _NEURON_1, activation: softmax}
train:
  loss: sparse_categorical_crossentropy
  epochs: _EPOCHS
)";
  std::string log;
  const Json results = RunLocal(program, "", &log);
  ASSERT_TRUE(results.is_object());
  EXPECT_NE(log.find("1080 training, 120 validation, 300 test samples"), std::string::npos) << log;
  EXPECT_GT(results["composed"]["metrics"]["accuracy"].get<double>(), 0.85) << log;
}

}  // namespace
}  // namespace cloudbook
