// What the Keras interpreter (keras_interpreter.h) computes with: the values of the Python
// subset, from numbers to data arrays, layers, tensors of the functional API and models.
// Anything it cannot follow is kUnknown with the reason and line, so an error appears only
// where such a value matters (a layer argument, fit's data) and says where it came from.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "maker/keras_import/python_syntax.h"
#include "shared/program.h"

namespace cloudbook::keras_import {

// Keras' pad_sequences over imdb.load_data's token ids (the program format's "sequences").
struct SequenceParams {
  bool padded = false;  // pad_sequences was applied (the program format needs it)
  int64_t maxlen = 0;
  std::string padding = "pre";
  std::string truncating = "pre";
  int64_t value = 0;
  int64_t num_words = 0;  // 0: every id kept
  int64_t oov = 2;
};

// image_dataset_from_directory(...): a folder with one sub-folder per class.
struct ImageFolder {
  std::string color;          // rgb | grayscale
  std::vector<int64_t> size;  // image_size (height, width)
  int line = 0;
  bool loop = false;  // read by a Python loop (cv2 / PIL): the class ids are a separate array
};

// An array of data the program loads: a file in working_dir after the preprocessing the
// program applies (scaling, reshaping, rows, label maps).
struct DataArray {
  std::string dataset;                // "mnist" | "fashion_mnist" | "imdb" (a Keras data set)
  std::string path;                   // relative to distributed/working_dir
  std::string format = "idx";         // idx | npy | npz | sequences | images (x and y in one)
  std::string key;                    // npz: the array's name
  bool labels = false;                // the labels of a Keras data set (else images or a file)
  double scale = 1.0;                 // divided by
  std::vector<int64_t> sample_shape;  // per sample; empty when unknown
  int line = 0;                       // where it was loaded
  // Labels: how many classes the data set has (0: not known), and the new label of each
  // class id when the program maps them (np.where(y % 2 == 0, 0, 1)); empty: unchanged.
  int num_classes = 0;
  std::vector<double> label_values;
  int label_line = 0;  // where the labels were mapped
  // Rows: a slice of the split ("0:5000", "-10:"), then a seeded shuffle, then a subset.
  std::string rows;
  std::optional<int64_t> shuffle_seed;
  std::optional<std::pair<int64_t, int64_t>> subset;  // count, seed
  int rows_line = 0;
  SequenceParams sequences;
  std::optional<ImageFolder> images;
  int64_t images_batch = 32;  // image_dataset_from_directory's batch_size (fit's batches)
};

// Rows drawn with numpy's legacy generator: np.random.permutation(len(x)) (count 0: all rows,
// a shuffle) or np.random.choice(len(x), k, replace=False) / permutation(...)[:k] (a subset).
struct RowChoice {
  int64_t seed = 0;
  int64_t count = 0;
  int line = 0;
  bool identity = false;  // np.arange(len(x)) before np.random.shuffle(idx) draws its order
};

struct ModelState;
struct InstanceState;
struct TfdsDataset;

// A layer object: Dense(...), Conv2D(...), ...; `input_shape` from input_shape= / input_dim=
// (or Input / InputLayer, whose spec.type is "input").
struct LayerObject {
  LayerSpec spec;
  std::optional<std::vector<int64_t>> input_shape;
  std::string input_dtype = "float";
  std::string source;  // the constructor call as written
};

// One layer application of the functional API and the nodes it reads (-1: the Input).
struct GraphNode {
  LayerSpec spec;
  std::vector<int> inputs;
  int folded = 0;  // activations folded into it since (a tensor taken before is stale)
};

// The functional graph of one Input: its layer applications in the order the program makes
// them (so every node reads earlier ones only). Grows as layers are applied; shared by the
// tensors made from it.
struct FunctionalGraph {
  int input_id = 0;
  std::vector<int64_t> input_shape;
  std::string input_dtype = "float";
  int input_line = 0;
  std::vector<GraphNode> nodes;
};

// A tensor of the functional API: a node of a graph (-1: the Input itself).
struct TensorNode {
  std::shared_ptr<FunctionalGraph> graph;
  int node = -1;
  int folded = 0;  // graph->nodes[node].folded when this tensor was made
};

struct OptimizerSpec {
  std::string name = "adam";  // adam | sgd
  std::optional<double> learning_rate;
  double momentum = 0;
};

struct Value {
  enum class Kind {
    kUnknown,  // text: why; line, source: where it came from
    kNone,
    kBool,         // number 0 / 1
    kNumber,       // number, integer; tag: the tagged variable read directly
    kString,       // text
    kSequence,     // items; is_list
    kModule,       // text: a dotted path ("tensorflow.keras.layers.Dense")
    kFunction,     // a def: text = name, function = the statement
    kMethod,       // items[0] . text (a bound method, called next)
    kArray,        // array
    kSampleCount,  // len(data array): the number of samples
    kFile,         // gzip.open(path) / open(path): text = path
    kLayer,        // layer
    kTensor,       // tensor
    kModel,        // model (shared: model.add changes every alias)
    kOptimizer,    // optimizer
    kLoss,         // text: the loss name
    kRows,         // rows: a seeded choice of rows (RowChoice)
    kClass,        // a class statement: function = the statement, text = its name
    kInstance,     // instance: an object of a keras.layers.Layer subclass
    kDataset,      // dataset: tensorflow_datasets' (image, label) pairs (interpreter_tfds.cc)
  };
  Kind kind = Kind::kNone;
  double number = 0;
  bool integer = false;
  std::string tag;          // kNumber read from a tagged variable: its name
  std::string derived_tag;  // kNumber computed from a tagged variable: its name
  std::string text;
  bool is_list = false;
  std::vector<Value> items;
  std::shared_ptr<const DataArray> array;
  std::shared_ptr<const LayerObject> layer;
  std::shared_ptr<const TensorNode> tensor;
  std::shared_ptr<ModelState> model;
  std::shared_ptr<const OptimizerSpec> optimizer;
  std::shared_ptr<const RowChoice> rows;
  std::shared_ptr<InstanceState> instance;
  std::shared_ptr<const TfdsDataset> dataset;
  const Statement* function = nullptr;
  int line = 0;
  std::string source;
  // The values inside this one (kSequence items, a kMethod's object), all levels, and how
  // deep they nest: the interpreter refuses values past a bound (hostile programs).
  int64_t elements = 0;
  int nesting = 0;

  static Value Unknown(std::string why, int line, std::string source = "") {
    Value value;
    value.kind = Kind::kUnknown;
    value.text = std::move(why);
    value.line = line;
    value.source = std::move(source);
    return value;
  }
  static Value Number(double number, bool integer) {
    Value value;
    value.kind = Kind::kNumber;
    value.number = number;
    value.integer = integer;
    return value;
  }
  static Value String(std::string text) {
    Value value;
    value.kind = Kind::kString;
    value.text = std::move(text);
    return value;
  }
  static Value Module(std::string path) {
    Value value;
    value.kind = Kind::kModule;
    value.text = std::move(path);
    return value;
  }
  static Value Sequence(std::vector<Value> items, bool is_list) {
    Value value;
    value.kind = Kind::kSequence;
    value.items = std::move(items);
    value.is_list = is_list;
    for (const Value& item : value.items) value.Contain(item);
    return value;
  }
  bool is(Kind k) const { return kind == k; }
  // Counts `inner` (held in items) in elements and nesting.
  void Contain(const Value& inner) {
    elements += 1 + inner.elements;
    nesting = std::max(nesting, inner.nesting + 1);
  }
};

// What the program does with a model: its layers, compile and fit.
struct ModelState {
  std::vector<LayerSpec> layers;
  std::optional<std::vector<int64_t>> input_shape;
  std::string input_dtype = "float";
  int line = 0;  // where it was created
  std::string name;
  bool functional = false;
  // compile
  int compile_line = 0;
  OptimizerSpec optimizer;
  std::string loss;
  int loss_line = 0;
  // fit
  int fit_line = 0;
  Value fit_x;
  Value fit_y;
  std::string fit_x_name;  // the argument as written when it is a plain name
  std::string fit_y_name;
  Value epochs;  // kNumber (maybe tagged); kNone: Keras' default of 1
  int64_t batch_size = 32;
  double validation_split = 0;
  Value validation_x;  // fit(validation_data=(x, y)); kNone when not given
  Value validation_y;
  int validation_line = 0;
  // predict (or evaluate when nothing is predicted)
  int predict_line = 0;
  Value predict_x;
  std::string predict_x_name;
  // evaluate(x, y) / evaluate(dataset): the test data when nothing is predicted
  Value evaluate_x;
  Value evaluate_y;
  int evaluate_line = 0;
};

// An object of a keras.layers.Layer subclass: its attributes (self.x = ...), set by __init__.
struct InstanceState {
  const Statement* class_def = nullptr;
  std::map<std::string, Value> attributes;
  int line = 0;
  bool called = false;  // applied to a tensor already (a second time would share weights)
};

// tfds.load(name, split=..., as_supervised=True) and its tf.data methods: the IDX arrays of
// the same Keras data set (x, y), what .map / .batch / .shuffle made of them.
struct TfdsDataset {
  Value x;            // kArray, sample_shape {28, 28, 1}
  Value y;            // kArray, the labels
  std::string split;  // "train" | "test"
  int line = 0;       // the tfds.load
  int64_t batch = 0;  // .batch(n); 0: not batched
  int batch_line = 0;
  bool whole = false;          // tfds.load(batch_size=-1): one element, every row (tfds.as_numpy)
  int64_t shuffle_buffer = 0;  // .shuffle(buffer); -1: a buffer the importer cannot read
  int shuffle_line = 0;
  bool shuffled_batches = false;  // .shuffle after .batch: whole batches are shuffled
};

// A short description of a value for messages: "a number (12)", "a Dense layer", ...
std::string Describe(const Value& value);

}  // namespace cloudbook::keras_import
