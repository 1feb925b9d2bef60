// The Keras layer constructors the importer understands (Dense, Conv2D, MaxPooling2D,
// AveragePooling2D, GlobalAveragePooling2D, Flatten, Reshape, Dropout, BatchNormalization,
// Embedding, GRU, LSTM, InputLayer and Input) and their mapping to the program format's
// LayerSpec, keyword and positional arguments alike. Messages name the call and the
// argument; the caller adds file and line. Pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "maker/keras_import/keras_value.h"
#include "shared/status.h"

namespace cloudbook::keras_import {

// The evaluated arguments of one call.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;
  int line = 0;
  std::string source;  // the call as written
};

// True for the class names above (and their aliases MaxPool2D, AvgPool2D, ...).
bool IsSupportedLayer(const std::string& class_name);
// Every Keras layer class name the message lists as supported.
std::string SupportedLayerList();

// `class_name` is the last component of the callee ("Dense"). For "Input" and "InputLayer"
// the result has spec.type "input" and input_shape set.
Result<LayerObject> MakeLayer(const std::string& class_name, const CallArgs& args);

// Readers shared with the interpreter (compile, fit): a whole number, a real number, a
// per-sample shape such as (28, 28) or (784,).
Result<int64_t> WholeNumber(const Value& value, const std::string& what);
Result<double> RealNumber(const Value& value, const std::string& what);
Result<std::vector<int64_t>> ShapeOf(const Value& value, const std::string& what);

// Why a value cannot be used where a number is needed ("'n' is not defined", "it is
// computed by np.where(...) at line 12").
std::string UnknownReason(const Value& value);

}  // namespace cloudbook::keras_import
