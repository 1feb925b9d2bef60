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
#include <vector>

#include "maker/keras_import/python_syntax.h"
#include "shared/program.h"

namespace cloudbook::keras_import {

// An array of data the program loads: a file in working_dir after the preprocessing the
// program applies (scaling, reshaping).
struct DataArray {
  std::string dataset;                // "mnist" | "fashion_mnist" (a Keras data set) | "" (a file)
  std::string path;                   // relative to distributed/working_dir
  bool labels = false;                // the labels of a Keras data set (else images or a file)
  double scale = 1.0;                 // divided by
  std::vector<int64_t> sample_shape;  // per sample; empty when unknown
  int line = 0;                       // where it was loaded
};

struct ModelState;

// A layer object: Dense(...), Conv2D(...), ...; `input_shape` from input_shape= / input_dim=
// (or Input / InputLayer, whose spec.type is "input").
struct LayerObject {
  LayerSpec spec;
  std::optional<std::vector<int64_t>> input_shape;
  std::string input_dtype = "float";
  std::string source;  // the constructor call as written
};

// A tensor of the functional API: an Input and the layers applied to it, in order.
struct TensorNode {
  int input_id = 0;
  std::vector<int64_t> input_shape;
  std::string input_dtype = "float";
  int input_line = 0;
  std::vector<LayerSpec> layers;
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
  // predict
  int predict_line = 0;
  Value predict_x;
  std::string predict_x_name;
};

// A short description of a value for messages: "a number (12)", "a Dense layer", ...
std::string Describe(const Value& value);

}  // namespace cloudbook::keras_import
