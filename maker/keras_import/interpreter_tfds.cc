// Interpreter: tensorflow_datasets. tfds.load('mnist' | 'fashion_mnist', as_supervised=True)
// becomes the IDX files keras.datasets gives (the same samples, sample shape [28, 28, 1] as
// tfds' uint8 images); the tf.data methods of the tfds tutorials (map of a scaling function,
// batch, shuffle, cache, prefetch) are followed, others refused where the data set is used.
// tfds' record order, and the shuffle, are the summary's notes. Other data sets are refused.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "maker/keras_import/interpreter.h"
#include "maker/keras_import/python_expression_parser.h"
#include "maker/keras_import/python_tokenizer.h"

namespace cloudbook::keras_import {
namespace {

const Value* Given(const CallArgs& args, const std::string& name, size_t position) {
  if (args.positional.size() > position) return &args.positional[position];
  for (const auto& [keyword, value] : args.keywords) {
    if (keyword == name) return &value;
  }
  return nullptr;
}

// 'train', tfds.Split.TRAIN -> "train"; "" when not a plain split name.
std::string SplitName(const Value& value) {
  if (value.is(Value::Kind::kString)) return value.text;
  if (value.is(Value::Kind::kModule) && LastPart(value.text) == "TRAIN") return "train";
  if (value.is(Value::Kind::kModule) && LastPart(value.text) == "TEST") return "test";
  return "";
}

bool FloatType(const Value& type) {
  const std::string word = type.is(Value::Kind::kString)   ? type.text
                           : type.is(Value::Kind::kModule) ? LastPart(type.text)
                                                           : "";
  return word == "float32" || word == "float64" || word == "float16" || word == "float";
}

Value DatasetValue(std::shared_ptr<TfdsDataset> dataset) {
  Value value;
  value.kind = Value::Kind::kDataset;
  value.line = dataset->line;
  value.dataset = std::move(dataset);
  return value;
}

}  // namespace

bool Interpreter::DatasetPair(const Value& value, Value* x, Value* y) {
  if (!value.is(Value::Kind::kDataset)) return false;
  *x = value.dataset->x;
  *y = value.dataset->y;
  return true;
}

std::optional<Result<Value>> Interpreter::CallTfdsFunction(const std::string& path,
                                                           const CallArgs& args, const Expr& expr) {
  const auto refuse = [&](const std::string& why) -> Result<Value> {
    return Status::InvalidArgument("'" + expr.source + "': " + why);
  };
  if (path == "tensorflow.cast" || path == "tensorflow.image.convert_image_dtype") {
    // tf.cast(image, tf.float32): the same values; convert_image_dtype of uint8 images to a
    // float type divides by 255 (tf.image.convert_image_dtype's documented scaling).
    const Value* data = Given(args, "x", 0);
    if (path != "tensorflow.cast") data = Given(args, "image", 0);
    const Value* type = Given(args, "dtype", 1);
    if (data == nullptr || type == nullptr || !data->is(Value::Kind::kArray) || !FloatType(*type) ||
        data->array->format != "idx") {
      return Value::Unknown("'" + expr.source + "' is not followed by the importer", expr.line,
                            expr.source);
    }
    if (path == "tensorflow.cast") return *data;
    if (data->array->scale != 1 || data->array->labels) {
      return Value::Unknown("'" + expr.source + "' of data that is not uint8 images", expr.line,
                            expr.source);
    }
    auto array = std::make_shared<DataArray>(*data->array);
    array->scale = 255;
    Value result = *data;
    result.array = array;
    return result;
  }
  if (!StartsWith(path, "tensorflow_datasets.")) return std::nullopt;
  const std::string function = path.substr(std::string("tensorflow_datasets.").size());
  if (function == "as_numpy") {
    const Value* of = Given(args, "dataset", 0);
    const auto arrays = [](const Value& value) -> std::optional<Value> {
      if (!value.is(Value::Kind::kDataset) || !value.dataset->whole) return std::nullopt;
      return Value::Sequence({value.dataset->x, value.dataset->y}, false);
    };
    if (of != nullptr && arrays(*of)) return *arrays(*of);
    if (of != nullptr && of->is(Value::Kind::kSequence)) {
      std::vector<Value> items;
      for (const Value& item : of->items) {
        if (!arrays(item)) break;
        items.push_back(*arrays(item));
      }
      if (items.size() == of->items.size()) return Value::Sequence(std::move(items), false);
    }
    return Value::Unknown("'" + expr.source +
                              "' iterates the data set in Python; only tfds.as_numpy(tfds.load("
                              "..., batch_size=-1, as_supervised=True)) (whole arrays) is followed",
                          expr.line, expr.source);
  }
  if (function != "load") {
    return refuse("tensorflow_datasets." + function +
                  " is not followed; the importer reads tfds.load('mnist' | 'fashion_mnist', "
                  "split=..., as_supervised=True) and tfds.as_numpy of it");
  }
  const Value* name_value = Given(args, "name", 0);
  std::string name = name_value && name_value->is(Value::Kind::kString) ? name_value->text : "";
  name = name.substr(0, name.find(':'));  // 'mnist:3.*.*': the version does not change the data
  if (name != "mnist" && name != "fashion_mnist") {
    return refuse(
        "tensorflow_datasets downloads its data, which cloudbook does not do; tfds.load is "
        "read for 'mnist' and 'fashion_mnist' only (as the IDX files keras.datasets gives). "
        "Save other data in distributed/working_dir and load it with what the program format "
        "reads: np.load('x.npy') / .npz (format: npy / npz), idx2numpy (format: idx), "
        "image_dataset_from_directory (images:), keras.datasets.imdb with pad_sequences "
        "(format: sequences) (docs/keras-import.md)");
  }
  std::vector<std::string> splits;
  bool listed = false;
  bool supervised = false;
  bool with_info = false;
  bool whole = false;
  int64_t batch = 0;
  if (args.positional.size() > 2) return refuse("give tfds.load's arguments after split by name");
  const Value* split = Given(args, "split", 1);
  if (split == nullptr) {
    return refuse(
        "give split='train' / 'test' / ['train', 'test'] (without a split tfds.load "
        "returns a dict of data sets, which the importer does not follow)");
  }
  if (split->is(Value::Kind::kSequence)) {
    listed = true;
    for (const Value& item : split->items) splits.push_back(SplitName(item));
  } else {
    splits.push_back(SplitName(*split));
  }
  for (const std::string& part : splits) {
    if (part != "train" && part != "test") {
      return refuse(
          "the split must be 'train' or 'test' (a list of them); sub-splits such as "
          "'train[:80%]' pick tfds' records, in tfds' order, which the IDX files do not "
          "have: slice the arrays (x_train[:48000]) or use validation_split=");
    }
  }
  for (const auto& [keyword, value] : args.keywords) {
    const bool truth = value.is(Value::Kind::kBool) && value.number != 0;
    if (keyword == "name" || keyword == "split") continue;
    if (keyword == "as_supervised") {
      supervised = truth;
    } else if (keyword == "with_info") {
      with_info = truth;
    } else if (keyword == "batch_size") {
      if (value.is(Value::Kind::kNone)) continue;
      CB_ASSIGN_OR_RETURN(batch, WholeNumber(value, "tfds.load's batch_size"));
      whole = batch == -1;
      if (whole) batch = 0;
      if (batch < 0 || (batch == 0 && !whole)) return refuse("batch_size must be -1 or >= 1");
    } else if (keyword == "shuffle_files" || keyword == "data_dir" || keyword == "download" ||
               keyword == "try_gcs") {
      continue;  // where the files are and the order of tfds' shards: not the samples
    } else {
      return refuse("tfds.load's argument '" + keyword +
                    "' is not followed; understood: split, as_supervised=True, with_info, "
                    "batch_size, shuffle_files, data_dir, download");
    }
  }
  if (!supervised) {
    return refuse(
        "write as_supervised=True: without it the elements are dicts ({'image': ..., "
        "'label': ...}), which the importer does not follow");
  }
  CB_ASSIGN_OR_RETURN(const Value keras, LoadKerasDataset(name, CallArgs{}, expr));
  std::vector<Value> datasets;
  for (const std::string& part : splits) {
    const Value& pair = keras.items[part == "train" ? 0 : 1];
    auto dataset = std::make_shared<TfdsDataset>();
    dataset->x = pair.items[0];
    dataset->y = pair.items[1];
    auto images = std::make_shared<DataArray>(*dataset->x.array);
    images->sample_shape = {28, 28, 1};  // tfds' images are uint8 [28, 28, 1]
    dataset->x.array = images;
    dataset->split = part;
    dataset->line = expr.line;
    dataset->whole = whole;
    dataset->batch = batch;
    dataset->batch_line = batch > 0 ? expr.line : 0;
    datasets.push_back(DatasetValue(dataset));
  }
  Value result = listed ? Value::Sequence(std::move(datasets), true) : datasets[0];
  if (!with_info) return result;
  return Value::Sequence({result, Value::Unknown("tfds' DatasetInfo is not followed by the "
                                                 "importer (write the numbers out)",
                                                 expr.line, expr.source)},
                         false);
}

Result<Value> Interpreter::CallDatasetMethod(const Value& dataset, const std::string& name,
                                             const CallArgs& args, const Expr& expr) {
  const auto unknown = [&](const std::string& why) {
    return Value::Unknown("'" + expr.source + "' " + why, expr.line, expr.source);
  };
  const TfdsDataset& from = *dataset.dataset;
  if (from.whole) {
    return unknown("uses a tfds.load(batch_size=-1) data set other than by tfds.as_numpy");
  }
  if (name == "cache" || name == "prefetch") return dataset;
  if (name == "map") return MapDataset(dataset, args, expr);
  auto changed = std::make_shared<TfdsDataset>(from);
  if (name == "batch") {
    if (from.batch > 0)
      return unknown("batches a data set batched already (line " + std::to_string(from.batch_line) +
                     ")");
    const Value* size = Given(args, "batch_size", 0);
    const Value* drop = Given(args, "drop_remainder", 1);
    if (size == nullptr) return unknown("needs the batch size");
    CB_ASSIGN_OR_RETURN(changed->batch, WholeNumber(*size, "the batch size of .batch"));
    if (changed->batch < 1) return unknown("needs a batch size >= 1");
    if (drop != nullptr && !(drop->is(Value::Kind::kBool) && drop->number == 0)) {
      return unknown(
          "drops the last, smaller batch (drop_remainder), which cloudbook trains on: "
          "remove drop_remainder");
    }
    changed->batch_line = expr.line;
    return DatasetValue(changed);
  }
  if (name == "shuffle") {
    const Value* buffer = Given(args, "buffer_size", 0);
    changed->shuffle_buffer = buffer != nullptr && buffer->is(Value::Kind::kNumber)
                                  ? static_cast<int64_t>(buffer->number)
                                  : -1;
    changed->shuffle_line = expr.line;
    changed->shuffled_batches = from.batch > 0;
    return DatasetValue(changed);
  }
  return unknown("(." + name +
                 " on a tensorflow_datasets data set) cannot be carried: cloudbook trains and "
                 "tests on every row of the split; understood: .map(scaling function), "
                 ".batch(n), .shuffle(buffer), .cache(), .prefetch(n). Slice the arrays "
                 "instead (tfds.as_numpy(tfds.load(..., batch_size=-1)), then x[:n])");
}

Result<Value> Interpreter::MapDataset(const Value& dataset, const CallArgs& args,
                                      const Expr& expr) {
  const auto unknown = [&](const std::string& why) {
    return Value::Unknown("'" + expr.source + "' " + why, expr.line, expr.source);
  };
  for (const auto& [keyword, value] : args.keywords) {
    if (keyword != "num_parallel_calls" && keyword != "deterministic" && keyword != "map_func") {
      return unknown("with " + keyword + "= is not followed");
    }
  }
  const Value* function = Given(args, "map_func", 0);
  if (function == nullptr || args.positional.size() > 1) return unknown("needs one function");
  const TfdsDataset& from = *dataset.dataset;
  Value mapped;
  if (function->is(Value::Kind::kFunction)) {
    auto result = CallFunction(*function, {from.x, from.y}, expr.line);
    mapped = result.ok() ? *result : Value::Unknown(result.status().message(), expr.line);
  } else if (!expr.arguments.empty() && expr.arguments[0].value->kind == Expr::Kind::kOpaque &&
             StartsWith(expr.arguments[0].value->source, "lambda")) {
    // lambda image, label: body -- run the body with the parameters bound.
    const std::string text = expr.arguments[0].value->source.substr(6);
    const size_t colon = text.find(':');
    std::vector<std::string> parameters;
    std::string current;
    for (char c : text.substr(0, colon == std::string::npos ? 0 : colon)) {
      if (c == ',') {
        parameters.push_back(current);
        current.clear();
      } else if (c != ' ' && c != '\t') {
        current += c;
      }
    }
    parameters.push_back(current);
    if (colon == std::string::npos || parameters.size() != 2) {
      return unknown("maps with a function of other than (image, label)");
    }
    std::string body = text.substr(colon + 1);
    body = body.substr(std::min(body.size(), body.find_first_not_of(" \t"))) + "\n";
    auto tokens = TokenizePython(body, name_);
    if (!tokens.ok()) return unknown("has a lambda the importer cannot read");
    ExprPtr parsed;
    const std::vector<std::string> lines = {body};  // the parser keeps a reference
    try {
      ExpressionParser parser(*tokens, lines);
      parsed = parser.SingleExpression();
    } catch (const SyntaxProblem&) {
      return unknown("has a lambda the importer cannot read");
    }
    Frame frame;
    frame.locals[parameters[0]] = from.x;
    frame.locals[parameters[1]] = from.y;
    frames_.push_back(std::move(frame));
    mapped = EvalTolerant(*parsed);
    frames_.pop_back();
  } else {
    return unknown("maps with " + Describe(*function) + ", which the importer cannot run");
  }
  // The function must give (image scaled by a number, the labels): the arrays the importer
  // can carry, row for row, each sample the same shape.
  const bool pair = mapped.is(Value::Kind::kSequence) && mapped.items.size() == 2 &&
                    mapped.items[0].is(Value::Kind::kArray) &&
                    mapped.items[1].is(Value::Kind::kArray);
  if (!pair) {
    std::string why = UnknownReason(mapped);
    for (const Value& item :
         mapped.is(Value::Kind::kSequence) ? mapped.items : std::vector<Value>{}) {
      if (why.empty()) why = UnknownReason(item);
    }
    return unknown("(map) gives " + Describe(mapped) + why +
                   "; the importer follows a function returning (image / 255, label) (also "
                   "tf.cast(image, tf.float32) / 255.)");
  }
  const DataArray& x = *mapped.items[0].array;
  const DataArray& y = *mapped.items[1].array;
  if (x.path != from.x.array->path || x.labels || y.path != from.y.array->path || !y.labels ||
      !x.rows.empty() || !y.rows.empty() || x.sample_shape != from.x.array->sample_shape) {
    return unknown(
        "(map) changes the data in a way the program format cannot express; the importer "
        "follows a function returning (image / 255, label) (also tf.cast(image, tf.float32) / "
        "255.)");
  }
  auto changed = std::make_shared<TfdsDataset>(from);
  changed->x = mapped.items[0];
  changed->y = mapped.items[1];
  return DatasetValue(changed);
}

Status Interpreter::FitDataset(std::map<std::string, Value>* given, ModelState* model,
                               const Expr& expr) {
  const int line = expr.line;
  const TfdsDataset& train = *(*given)["x"].dataset;
  if (given->count("y") > 0 || given->count("batch_size") > 0) {
    return Error(line, "'" + expr.source +
                           "': fit on a data set takes neither y nor batch_size (Keras refuses "
                           "them; the batches come from the data set's .batch(n))");
  }
  if (train.batch == 0) {
    return Error(line, "'" + expr.source + "': the training data set (tfds.load at line " +
                           std::to_string(train.line) +
                           ") is not batched: Keras would take each image as a batch; write "
                           ".batch(n)");
  }
  if (train.split != "train") {
    SummaryNote(line, "the model trains on tfds' '" + train.split + "' split (the " +
                          train.x.array->path + " file)");
  }
  model->batch_size = train.batch;
  (*given)["x"] = train.x;
  (*given)["y"] = train.y;
  if (given->count("validation_data") > 0 &&
      (*given)["validation_data"].is(Value::Kind::kDataset)) {
    const TfdsDataset& validation = *(*given)["validation_data"].dataset;
    (*given)["validation_data"] = Value::Sequence({validation.x, validation.y}, false);
  }
  SummaryNote(train.line,
              "tfds.load's records come in another order than the IDX files cloudbook reads "
              "(the same samples, row for row the same images and labels)");
  const std::string cloudbook =
      "cloudbook shuffles the training rows anew every epoch (a full permutation from its "
      "own seeded generator), as fit(x, y) does";
  if (train.shuffle_line == 0) {
    SummaryNote(line,
                "the data set has no .shuffle(), so Keras reads it in the same order "
                "every epoch; " +
                    cloudbook);
  } else if (train.shuffled_batches) {
    SummaryNote(train.shuffle_line,
                ".shuffle after .batch shuffles whole batches; " + cloudbook + " (other batches)");
  } else if (train.shuffle_buffer < (train.split == "train" ? 60000 : 10000)) {
    SummaryNote(train.shuffle_line,
                ".shuffle's buffer (" +
                    (train.shuffle_buffer < 0 ? std::string("not read")
                                              : std::to_string(train.shuffle_buffer)) +
                    ") may be smaller than the split, a partial shuffle; " + cloudbook);
  } else {
    SummaryNote(train.shuffle_line,
                ".shuffle of the whole split: " + cloudbook + " (another order than tf.data's)");
  }
  return Status::Ok();
}

}  // namespace cloudbook::keras_import
