// The user's program (see docs/program-format.md): one network, its data and its training,
// as parsed from original/<name>.yaml. Plain data, no behaviour; the maker parses it
// (maker/program_parser.h) and the deconstruction resolves its tagged variables.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cloudbook {

enum class ProblemType { kMulticlass, kBinary, kRegression };
const char* ProblemTypeName(ProblemType type);  // "multiclass" | "binary" | "regression"

// A numeric field: a literal, or the name of a tagged variable (e.g. "_NEURON_1").
struct NumberOrVar {
  double value = 0;
  std::string var;  // non-empty: the value comes from Program::vars
  bool is_var() const { return !var.empty(); }
};

// Format "sequences": integer token ids, one sample per line, padded and truncated as Keras'
// pad_sequences does; ids >= num_words become `oov` as in imdb.load_data(num_words=...).
struct SequenceOptions {
  int64_t maxlen = 0;            // 0 = the longest sequence read (pad_sequences' maxlen=None)
  bool padding_post = false;     // padding: pre (default) | post
  bool truncating_post = false;  // truncating: pre (default) | post
  int64_t value = 0;             // the padding id
  int64_t num_words = 0;         // 0 = keep every id
  int64_t oov = 2;               // replaces ids >= num_words
};

// One array of a data split, read from working_dir.
struct ArraySource {
  std::string format;  // "idx" | "csv" | "tensor" | "npy" | "npz" | "sequences" | "same_as_x"
  std::string path;    // relative to distributed/working_dir
  double scale = 1.0;  // values are divided by this (255 for images)
  // CSV only: which columns (names from the header, or 0-based indices as text).
  std::vector<std::string> columns;
  bool header = true;
  char delimiter = ',';
  std::string key;            // npz only: the array's name (np.load(path)[key])
  SequenceOptions sequences;  // sequences only
};

// A folder of images, one sub-folder per class (shared/data/image_folder.h).
struct ImageFolderSource {
  std::string path;    // relative to distributed/working_dir
  std::string color;   // "grayscale" | "rgb"; empty: from model.input's channels
  double scale = 1.0;  // values (0..255) are divided by this
};

struct DataSplit {
  ArraySource x;
  ArraySource y;
  std::optional<ImageFolderSource> images = std::nullopt;  // set: x and y come from it instead
};

// `data.test_split`: a seeded, stratified test set cut from the training source.
struct TestSplitSpec {
  double fraction = 0.0;  // in (0, 1): share of each class that tests
  uint64_t seed = 0;
};

// A Python slice without step, `begin:end` (either may be left out or negative), clamped to
// the rows present as Python clamps.
struct RowSlice {
  std::optional<int64_t> begin;
  std::optional<int64_t> end;
};

// `count` rows drawn without replacement: numpy RandomState(seed).choice(rows, count,
// replace=False), in the drawn order.
struct TrainSubset {
  int64_t count = 0;
  uint32_t seed = 0;
};

struct DataSpec {
  DataSplit train;
  std::optional<DataSplit> test;
  double validation_split = 0.0;  // last fraction of train, as Keras does
  int64_t train_limit = 0;        // 0 = all; first N training samples (quick runs)
  int64_t test_limit = 0;         // 0 = all
  // Applied to the training rows in this order (docs/program-format.md): train_rows, shuffle,
  // train_subset, label_map, then validation (validation_split or `validation`).
  std::optional<RowSlice> train_rows;
  std::optional<RowSlice> test_rows;
  std::optional<uint32_t> shuffle_seed;  // numpy RandomState(seed).shuffle of the rows
  std::optional<TrainSubset> train_subset;
  std::vector<int64_t> label_map;       // new label of each original label; empty = none
  std::optional<DataSplit> validation;  // explicit validation set (excludes validation_split)
  std::optional<TestSplitSpec> test_split;  // only without `test`
};

// One layer of the layer list. Numeric parameters keep their variable names until the
// deconstruction resolves them; `words` hold activation, padding and the like.
struct LayerSpec {
  std::string type;  // dense, conv2d, maxpool2d, avgpool2d, global_avgpool2d, flatten,
                     // reshape, dropout, batchnorm, embedding, gru, lstm, add, layernorm,
                     // multihead_attention, transformer_block, token_position_embedding,
                     // patches, patch_encoder, conv1d, maxpool1d, avgpool1d, global_avgpool1d,
                     // global_maxpool1d, global_maxpool2d, normalization, activation
                     // (maker/layer_rules.cc)
  std::map<std::string, std::vector<NumberOrVar>> numbers;  // scalars are 1-element lists
  std::map<std::string, std::string> words;
  int line = 0;  // 1-based line in the program file, 0 when unknown
  // The small DAG (docs/program-format.md): an optional unique name, and the layers this one
  // reads, by name, "input" (the model input) or "previous" (the layer just above). Empty
  // `inputs` means the layer just above, as in a plain list.
  std::string name;
  std::vector<std::string> inputs;
};

struct ModelSpec {
  std::vector<int64_t> input_shape;   // per sample, Keras order (H, W, C for images)
  std::string input_dtype = "float";  // "float" | "int64" (token ids for embedding)
  std::vector<LayerSpec> layers;
};

enum class EpochsPolicy { kTable, kReduce, kKeep };

// Threads per training unless the program says otherwise: small subnets use cores better
// side by side (one DU per core) than split across cores at batch 32.
inline constexpr int kDefaultTrainingThreads = 1;
inline constexpr int kMaxTrainingThreads = 256;

struct TrainSpec {
  std::string optimizer = "adam";  // "adam" | "sgd"
  double learning_rate = 0.001;
  double momentum = 0.0;  // sgd only
  std::string loss;       // sparse_categorical_crossentropy | binary_crossentropy | mse | mae
  int64_t batch_size = 32;
  // libtorch threads of one training, whatever machine or neighbours it has: the thread
  // count changes floating-point reductions, so it is part of the DU, not of the placement.
  int threads = kDefaultTrainingThreads;
  NumberOrVar epochs;
  EpochsPolicy epochs_policy = EpochsPolicy::kTable;
};

struct Program {
  std::string name;
  ProblemType problem = ProblemType::kMulticlass;
  std::vector<std::string> metrics;
  uint64_t seed = 42;
  DataSpec data;
  std::map<std::string, int64_t> vars;  // tagged variables: _NEURON_k, _FILTERS_k, ...
  ModelSpec model;
  TrainSpec train;
  std::string source_path;  // the file it was parsed from, for messages
};

}  // namespace cloudbook
