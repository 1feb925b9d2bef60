// Interpreter: data the program loads (Keras data sets, idx2numpy files), the preprocessing
// it applies (scaling, reshaping, expand_dims), and their mapping to ArraySource.
#include "maker/keras_import/interpreter.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace cloudbook::keras_import {
namespace {

// The IDX files that stand for a Keras data set, in the layout of configs/fashion_mlp.
std::string DatasetFile(const std::string& dataset, bool train, bool labels) {
  const std::string folder = dataset == "fashion_mnist" ? "fashion-mnist" : "mnist";
  const std::string stem = std::string(train ? "train" : "t10k") +
                           (labels ? "-labels-idx1-ubyte.gz" : "-images-idx3-ubyte.gz");
  return folder + "/" + stem;
}

}  // namespace

Result<Value> Interpreter::LoadIdxFile(const Value& from, const Expr& expr) {
  std::string path;
  if (from.is(Value::Kind::kString) || from.is(Value::Kind::kFile)) path = from.text;
  if (path.empty()) {
    return Value::Unknown("'" + expr.source + "' reads a file whose name is not a plain string",
                          expr.line, expr.source);
  }
  while (StartsWith(path, "./")) path = path.substr(2);
  if (path.empty() || path[0] == '/' || path[0] == '\\' || path.find("..") != std::string::npos ||
      (path.size() > 1 && path[1] == ':')) {
    return Status::InvalidArgument(
        "'" + expr.source + "' reads '" + path +
        "': data paths must be relative to the project's distributed/working_dir (where "
        "cloudbook looks for data), without '..'; copy the file there and give its relative "
        "path");
  }
  auto array = std::make_shared<DataArray>();
  array->path = path;
  array->line = expr.line;
  Value value;
  value.kind = Value::Kind::kArray;
  value.array = array;
  return value;
}

Result<Value> Interpreter::ExpandDims(const CallArgs& args, const Expr& expr) {
  const Value& data = args.positional[0];
  Value axis_value = args.positional.size() > 1 ? args.positional[1] : Value::Number(-1, true);
  for (const auto& [keyword, value] : args.keywords) {
    if (keyword == "axis") axis_value = value;
  }
  if (data.array->sample_shape.empty() || !axis_value.is(Value::Kind::kNumber) ||
      std::fabs(axis_value.number) > 64) {
    return Value::Unknown("'" + expr.source + "' on data of unknown shape", expr.line, expr.source);
  }
  auto array = std::make_shared<DataArray>(*data.array);
  const int64_t rank = static_cast<int64_t>(array->sample_shape.size()) + 1;  // with samples
  int64_t axis = static_cast<int64_t>(axis_value.number);
  if (axis < 0) axis += rank + 1;
  if (axis < 1 || axis > rank) {
    return Value::Unknown("'" + expr.source + "' adds an axis before the samples", expr.line,
                          expr.source);
  }
  array->sample_shape.insert(array->sample_shape.begin() + (axis - 1), 1);
  Value result = data;
  result.array = array;
  return result;
}

Result<Value> Interpreter::LoadKerasDataset(const std::string& dataset, const CallArgs& args,
                                            const Expr& expr) {
  if (dataset == "imdb") return LoadImdb(args, expr);
  if (dataset != "mnist" && dataset != "fashion_mnist") {
    return Status::InvalidArgument(
        "the Keras data set '" + dataset +
        "' is not supported: cloudbook reads MNIST and Fashion-MNIST as IDX files (mnist, "
        "fashion_mnist) and imdb as token sequences; for other data, save it as IDX files in "
        "distributed/working_dir "
        "and load them with idx2numpy.convert_from_file('<relative path>')");
  }
  std::vector<Value> splits;
  for (bool train : {true, false}) {
    std::vector<Value> pair;
    for (bool labels : {false, true}) {
      auto array = std::make_shared<DataArray>();
      array->dataset = dataset;
      array->path = DatasetFile(dataset, train, labels);
      array->labels = labels;
      array->num_classes = labels ? 10 : 0;
      array->line = expr.line;
      if (!labels) array->sample_shape = {28, 28};
      Value value;
      value.kind = Value::Kind::kArray;
      value.array = array;
      pair.push_back(value);
    }
    splits.push_back(Value::Sequence(std::move(pair), false));
  }
  return Value::Sequence(std::move(splits), false);
}

Result<Value> Interpreter::CallArrayMethod(const Value& object, const std::string& name,
                                           const CallArgs& args, const Expr& expr) {
  if (name == "astype" && object.array->labels && !object.array->label_values.empty() &&
      args.positional.size() == 1) {  // (y == 3).astype(int): whole class ids
    const Value& type = args.positional[0];
    const std::string word = type.is(Value::Kind::kString)   ? type.text
                             : type.is(Value::Kind::kModule) ? LastPart(type.text)
                                                             : "";
    if (StartsWith(word, "int") || StartsWith(word, "uint")) {
      auto array = std::make_shared<DataArray>(*object.array);
      for (double& value : array->label_values) value = std::trunc(value);
      Value result = object;
      result.array = array;
      return result;
    }
  }
  if (name == "astype" || name == "copy" || name == "flatten" || name == "ravel" ||
      (object.array->format == "images" &&
       (name == "prefetch" || name == "cache" || name == "shuffle"))) {
    return object;
  }
  if (name != "reshape") {
    return Value::Unknown("'" + expr.source +
                              "' changes the data in a way the program "
                              "format cannot express",
                          expr.line, expr.source);
  }
  std::vector<Value> dims = args.positional;
  if (dims.size() == 1 && dims[0].is(Value::Kind::kSequence)) dims = dims[0].items;
  if (dims.empty()) {
    return Value::Unknown("'" + expr.source + "' without a shape", expr.line, expr.source);
  }
  // The first size is the number of samples: -1, len(x) or a number.
  const Value& first = dims[0];
  if (!(first.is(Value::Kind::kSampleCount) || first.is(Value::Kind::kNumber))) {
    return Value::Unknown("'" + expr.source + "': the number of samples is not followed", expr.line,
                          expr.source);
  }
  std::vector<int64_t> shape;
  for (size_t i = 1; i < dims.size(); ++i) {
    if (!dims[i].is(Value::Kind::kNumber) || dims[i].number < 1 || dims[i].number > 1e9 ||
        dims[i].number != std::floor(dims[i].number)) {
      return Value::Unknown("'" + expr.source +
                                "' reshapes each sample to sizes the importer cannot read "
                                "(write them as numbers, with -1 only for the samples)",
                            expr.line, expr.source);
    }
    shape.push_back(static_cast<int64_t>(dims[i].number));
  }
  const auto& current = object.array->sample_shape;
  if (!current.empty() && Product(current) != Product(shape)) {
    return Status::InvalidArgument("'" + expr.source + "' reshapes samples of " +
                                   ShapeText(current) + " (" + std::to_string(Product(current)) +
                                   " values) to " + ShapeText(shape));
  }
  auto array = std::make_shared<DataArray>(*object.array);
  array->sample_shape = shape;
  Value result = object;
  result.array = array;
  return result;
}

void Interpreter::AddDataFile(const Value& value, const std::string& role) {
  if (!value.is(Value::Kind::kArray)) return;
  for (const DataFile& file : data_files_) {
    if (file.path == value.array->path) return;
  }
  data_files_.push_back({value.array->path, value.array->dataset, role});
}

bool Interpreter::SameArray(const Value& a, const Value& b) {
  return a.is(Value::Kind::kArray) && b.is(Value::Kind::kArray) && a.array->path == b.array->path &&
         a.array->key == b.array->key && a.array->labels == b.array->labels;
}

}  // namespace cloudbook::keras_import
