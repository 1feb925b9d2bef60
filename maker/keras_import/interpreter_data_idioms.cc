// Interpreter: the data idioms of issue 17 and their program-format words. Label maps
// (np.where(y % 2 == 0, 0, 1), (y == 3).astype(int)) evaluated over the class ids into
// label_map; slices of a split (rows); numpy's seeded permutation / choice and
// sklearn.utils.shuffle (shuffle, train_subset); np.load of .npy / .npz; imdb.load_data +
// pad_sequences (sequences); image_dataset_from_directory (images); tensorflow_datasets is
// interpreter_tfds.cc's.
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "maker/keras_import/interpreter.h"

namespace cloudbook::keras_import {
namespace {

bool IsLabels(const Value& value) {
  return value.is(Value::Kind::kArray) && value.array->labels && value.array->num_classes > 0;
}

// The value of each class id: the mapped labels, or the ids themselves.
std::vector<double> LabelValues(const DataArray& array) {
  if (!array.label_values.empty()) return array.label_values;
  std::vector<double> values;
  for (int i = 0; i < array.num_classes; ++i) values.push_back(i);
  return values;
}

Value ArrayValue(std::shared_ptr<DataArray> array) {
  Value value;
  value.kind = Value::Kind::kArray;
  value.array = std::move(array);
  return value;
}

// A path inside working_dir, or "" (the caller refuses it).
std::string RelativePath(std::string path) {
  while (StartsWith(path, "./")) path = path.substr(2);
  if (path.empty() || path[0] == '/' || path[0] == '\\' || path.find("..") != std::string::npos ||
      (path.size() > 1 && path[1] == ':')) {
    return "";
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string SliceText(const std::optional<int64_t>& begin, const std::optional<int64_t>& end) {
  return std::to_string(begin.value_or(0)) + ":" + (end ? std::to_string(*end) : "");
}

const Value* Keyword(const CallArgs& args, const std::string& name) {
  for (const auto& [keyword, value] : args.keywords) {
    if (keyword == name) return &value;
  }
  return nullptr;
}

}  // namespace

// Elementwise arithmetic, comparison and & | on labels, over the class ids.
Result<Value> Interpreter::LabelElementwise(const Expr& expr, const std::string& op,
                                            const Value& left, const Value& right) {
  const Value& labels = IsLabels(left) ? left : right;
  const int classes = labels.array->num_classes;
  std::vector<double> a;
  std::vector<double> b;
  for (const auto& [side, out] : {std::make_pair(&left, &a), std::make_pair(&right, &b)}) {
    if (IsLabels(*side)) {
      if (side->array->path != labels.array->path) {
        return Value::Unknown("'" + expr.source + "' combines two different label arrays",
                              expr.line, expr.source);
      }
      *out = LabelValues(*side->array);
    } else if (side->is(Value::Kind::kNumber) || side->is(Value::Kind::kBool)) {
      *out = std::vector<double>(static_cast<size_t>(classes), side->number);
    } else {
      return Value::Unknown("'" + expr.source + "' maps the labels with " + Describe(*side) +
                                ", which the importer cannot evaluate over the class ids",
                            expr.line, expr.source);
    }
  }
  std::vector<double> result;
  for (int i = 0; i < classes; ++i) {
    const double x = a[static_cast<size_t>(i)];
    const double y = b[static_cast<size_t>(i)];
    double r = 0;
    if (op == "+")
      r = x + y;
    else if (op == "-")
      r = x - y;
    else if (op == "*")
      r = x * y;
    else if (op == "/" && y != 0)
      r = x / y;
    else if (op == "//" && y != 0)
      r = std::floor(x / y);
    else if (op == "%" && y != 0)
      r = x - y * std::floor(x / y);
    else if (op == "==")
      r = x == y;
    else if (op == "!=")
      r = x != y;
    else if (op == "<")
      r = x < y;
    else if (op == "<=")
      r = x <= y;
    else if (op == ">")
      r = x > y;
    else if (op == ">=")
      r = x >= y;
    else if (op == "&")
      r = (x != 0) && (y != 0);
    else if (op == "|")
      r = (x != 0) || (y != 0);
    else {
      return Value::Unknown(
          "'" + expr.source + "' maps the labels in a way the importer cannot " + "evaluate",
          expr.line, expr.source);
    }
    result.push_back(r);
  }
  auto array = std::make_shared<DataArray>(*labels.array);
  array->label_values = std::move(result);
  array->label_line = expr.line;
  return ArrayValue(array);
}

// np.where(condition, a, b) over the labels' class ids.
Result<Value> Interpreter::LabelWhere(const CallArgs& args, const Expr& expr) {
  if (args.positional.size() != 3 || !IsLabels(args.positional[0])) {
    return Value::Unknown("'" + expr.source + "' (np.where) is followed only as a label map, " +
                              "np.where(<condition on y>, a, b)",
                          expr.line, expr.source);
  }
  const DataArray& condition = *args.positional[0].array;
  const std::vector<double> test = LabelValues(condition);
  std::vector<double> result;
  for (size_t i = 0; i < test.size(); ++i) {
    const Value& pick = test[i] != 0 ? args.positional[1] : args.positional[2];
    if (IsLabels(pick) && pick.array->path == condition.path) {
      result.push_back(LabelValues(*pick.array)[i]);
    } else if (pick.is(Value::Kind::kNumber) || pick.is(Value::Kind::kBool)) {
      result.push_back(pick.number);
    } else {
      return Value::Unknown("'" + expr.source + "': np.where picks " + Describe(pick) +
                                ", not a number or the same labels",
                            expr.line, expr.source);
    }
  }
  auto array = std::make_shared<DataArray>(condition);
  array->label_values = std::move(result);
  array->label_line = expr.line;
  return ArrayValue(array);
}

// x[a:b] (rows), x[idx] with a seeded choice of rows (shuffle or subset), archive['key'].
Result<Value> Interpreter::SubscriptData(const Value& object, const Expr& index, const Expr& expr) {
  const auto unknown = [&](const std::string& why) {
    return Value::Unknown("'" + expr.source + "' " + why, expr.line, expr.source);
  };
  if (object.is(Value::Kind::kFile) && object.source == "npz") {
    CB_ASSIGN_OR_RETURN(Value key, Eval(index));
    if (!key.is(Value::Kind::kString))
      return unknown("reads an npz archive by a name that is not known");
    auto array = std::make_shared<DataArray>();
    array->format = "npz";
    array->path = object.text;
    array->key = key.text;
    array->line = expr.line;
    return ArrayValue(array);
  }
  if (object.is(Value::Kind::kRows) && object.rows->identity) {
    return unknown("(a slice of np.arange) is not followed; slice the data instead");
  }
  if (object.is(Value::Kind::kRows)) {  // permutation(...)[:k]: the first k rows drawn
    if (index.kind != Expr::Kind::kSlice || index.items[2] || !index.items[1] ||
        object.rows->count != 0) {
      return unknown("(only the first rows of one permutation, idx[:k], are followed)");
    }
    std::optional<int64_t> begin;
    if (index.items[0]) {
      CB_ASSIGN_OR_RETURN(Value value, Eval(*index.items[0]));
      CB_ASSIGN_OR_RETURN(begin, WholeNumber(value, "the start of '" + expr.source + "'"));
    }
    CB_ASSIGN_OR_RETURN(Value end_value, Eval(*index.items[1]));
    CB_ASSIGN_OR_RETURN(const int64_t end,
                        WholeNumber(end_value, "the end of '" + expr.source + "'"));
    if (begin.value_or(0) != 0 || end < 1) {
      return unknown("(only the first k rows of a permutation, idx[:k], are followed)");
    }
    auto rows = std::make_shared<RowChoice>(*object.rows);
    rows->count = end;
    Value value = object;
    value.rows = rows;
    return value;
  }
  const DataArray& data = *object.array;
  auto array = std::make_shared<DataArray>(data);
  array->rows_line = expr.line;
  if (index.kind == Expr::Kind::kSlice) {
    if (index.items[2])
      return unknown("(a slice with a step) cannot be expressed: rows take begin:end");
    if (!data.rows.empty() || data.shuffle_seed || data.subset) {
      return unknown("slices rows already sliced or shuffled (at line " +
                     std::to_string(data.rows_line) +
                     "); the program format takes one slice, then a shuffle, then a subset");
    }
    std::optional<int64_t> bounds[2];
    for (int i = 0; i < 2; ++i) {
      if (!index.items[static_cast<size_t>(i)]) continue;
      CB_ASSIGN_OR_RETURN(Value value, Eval(*index.items[static_cast<size_t>(i)]));
      if (value.is(Value::Kind::kSampleCount)) {
        if (i == 1) continue;  // x[:len(x)]: to the end
        return unknown("starts at the number of samples");
      }
      auto number = WholeNumber(value, "a bound of '" + expr.source + "'");
      if (!number.ok())
        return unknown("has a bound that is not a known whole number" + UnknownReason(value));
      bounds[i] = *number;
    }
    array->rows = SliceText(bounds[0], bounds[1]);
    return ArrayValue(array);
  }
  CB_ASSIGN_OR_RETURN(Value rows, Eval(index));
  if (rows.is(Value::Kind::kUnknown)) return rows;
  if (rows.is(Value::Kind::kRows) && rows.rows->identity) return object;  // x[np.arange(n)]
  if (!rows.is(Value::Kind::kRows)) {
    return unknown("takes a part of the data the program format cannot express (it takes a " +
                   std::string("slice x[a:b], or rows drawn by np.random.permutation(len(x)) / ") +
                   "np.random.choice(len(x), k, replace=False))");
  }
  if (data.shuffle_seed || data.subset) {
    return unknown("chooses rows of rows already chosen (line " + std::to_string(data.rows_line) +
                   ")");
  }
  if (rows.rows->count == 0) {
    array->shuffle_seed = rows.rows->seed;
  } else {
    array->subset = std::make_pair(rows.rows->count, rows.rows->seed);
  }
  return ArrayValue(array);
}

// numpy's legacy global generator: the seed np.random.seed set, for the first draw after it.
Result<Value> Interpreter::DrawRows(const Expr& expr, int64_t count) {
  const auto unknown = [&](const std::string& why) {
    return Value::Unknown("'" + expr.source + "' " + why, expr.line, expr.source);
  };
  if (!numpy_seed_) {
    return unknown(
        "draws rows without a seed: cloudbook's rows are reproducible, so set "
        "np.random.seed(s) before it (the rows are then numpy's RandomState(s) rows)");
  }
  if (numpy_draws_ > 0) {
    return unknown("is the second draw from numpy's generator after np.random.seed (line " +
                   std::to_string(numpy_seed_line_) +
                   "); cloudbook reproduces only the first: seed again right before it");
  }
  ++numpy_draws_;
  auto rows = std::make_shared<RowChoice>();
  rows->seed = *numpy_seed_;
  rows->count = count;
  rows->line = expr.line;
  Value value;
  value.kind = Value::Kind::kRows;
  value.rows = rows;
  value.line = expr.line;
  return value;
}

// Calls of numpy, sklearn, Keras utilities and tensorflow_datasets that load or choose data;
// *handled false: not one of them.
Result<Value> Interpreter::CallDataFunction(const std::string& path, const CallArgs& args,
                                            const Expr& expr, bool* handled) {
  *handled = true;
  const auto unknown = [&](const std::string& why) {
    return Value::Unknown("'" + expr.source + "' " + why, expr.line, expr.source);
  };
  const std::string last = LastPart(path);
  if (auto folder = CallFolderFunction(path, args, expr)) return *folder;
  if (path == "numpy.random.seed" || path == "keras.utils.set_random_seed") {
    if (args.positional.size() == 1 && args.positional[0].is(Value::Kind::kNumber)) {
      CB_ASSIGN_OR_RETURN(numpy_seed_, WholeNumber(args.positional[0], "the seed"));
      numpy_seed_line_ = expr.line;
      numpy_draws_ = 0;
    } else {
      numpy_seed_.reset();
    }
    return Value();
  }
  if (path == "numpy.arange" && args.positional.size() == 1 &&
      args.positional[0].is(Value::Kind::kSampleCount)) {  // idx = np.arange(len(x))
    auto rows = std::make_shared<RowChoice>();
    rows->identity = true;
    rows->line = expr.line;
    Value value;
    value.kind = Value::Kind::kRows;
    value.rows = rows;
    value.line = expr.line;
    return value;
  }
  if (path == "numpy.random.shuffle") {  // in place: the statement rebinds the name
    if (args.positional.size() == 1 && args.positional[0].is(Value::Kind::kRows) &&
        args.positional[0].rows->identity) {
      return DrawRows(expr, 0);
    }
    return unknown(
        "shuffles in place what the importer cannot follow (only "
        "idx = np.arange(len(x)); np.random.shuffle(idx); x, y = x[idx], y[idx] is "
        "read; shuffling x alone would also separate it from y)");
  }
  if (path == "numpy.random.permutation" || path == "numpy.random.choice") {
    if (args.positional.empty() || !args.positional[0].is(Value::Kind::kSampleCount)) {
      return unknown(
          "draws from a count the importer does not tie to the data: write "
          "len(x_train) (or x_train.shape[0]) so the rows follow the split");
    }
    if (path == "numpy.random.permutation") return DrawRows(expr, 0);
    const Value* size = args.positional.size() > 1 ? &args.positional[1] : Keyword(args, "size");
    const Value* replace =
        args.positional.size() > 2 ? &args.positional[2] : Keyword(args, "replace");
    if (size == nullptr || replace == nullptr || !replace->is(Value::Kind::kBool) ||
        replace->number != 0) {
      return unknown(
          "must draw without replacement, np.random.choice(len(x), k, "
          "replace=False): a subset with repeated rows cannot be expressed");
    }
    CB_ASSIGN_OR_RETURN(const int64_t count, WholeNumber(*size, "the size of np.random.choice"));
    if (count < 1) return unknown("draws no rows");
    return DrawRows(expr, count);
  }
  if (path == "sklearn.utils.shuffle") {
    std::optional<int64_t> seed = numpy_seed_;
    int64_t count = 0;
    for (const auto& [keyword, value] : args.keywords) {
      if (keyword == "random_state") {
        CB_ASSIGN_OR_RETURN(seed, WholeNumber(value, "shuffle's random_state"));
      } else if (keyword == "n_samples") {
        CB_ASSIGN_OR_RETURN(count, WholeNumber(value, "shuffle's n_samples"));
      } else {
        return unknown("with '" + keyword + "' is not followed");
      }
    }
    if (!Keyword(args, "random_state")) {
      CB_ASSIGN_OR_RETURN(Value drawn, DrawRows(expr, count));
      if (drawn.is(Value::Kind::kUnknown)) return drawn;
    }
    if (!seed) return unknown("shuffles without a seed; give random_state=");
    std::vector<Value> out;
    for (const Value& array : args.positional) {
      if (!array.is(Value::Kind::kArray)) return unknown("shuffles " + Describe(array));
      auto copy = std::make_shared<DataArray>(*array.array);
      if (copy->shuffle_seed || copy->subset) return unknown("shuffles rows already chosen");
      if (count > 0) {
        copy->subset = std::make_pair(count, *seed);
      } else {
        copy->shuffle_seed = *seed;
      }
      copy->rows_line = expr.line;
      out.push_back(ArrayValue(copy));
    }
    if (out.size() == 1) return out[0];
    return Value::Sequence(std::move(out), true);
  }
  if (path == "numpy.where") return LabelWhere(args, expr);
  if (path == "numpy.load") {
    if (args.positional.empty() || !args.positional[0].is(Value::Kind::kString)) {
      return unknown("reads a file whose name is not a plain string");
    }
    const std::string file = RelativePath(args.positional[0].text);
    if (file.empty()) {
      return Status::InvalidArgument(
          "'" + expr.source + "' reads '" + args.positional[0].text +
          "': data paths must be relative to the project's distributed/working_dir, without "
          "'..'; copy the file there and give its relative path");
    }
    if (file.size() > 4 && file.substr(file.size() - 4) == ".npz") {
      Value archive;
      archive.kind = Value::Kind::kFile;
      archive.text = file;
      archive.source = "npz";
      return archive;
    }
    auto array = std::make_shared<DataArray>();
    array->format = "npy";
    array->path = file;
    array->line = expr.line;
    return ArrayValue(array);
  }
  if (last == "pad_sequences" && StartsWith(path, "keras.")) return PadSequences(args, expr);
  if (last == "image_dataset_from_directory" && StartsWith(path, "keras.")) {
    return ImageFolderDataset(args, expr);
  }
  if (auto tfds = CallTfdsFunction(path, args, expr)) return *tfds;
  *handled = false;
  return Value();
}

Result<Value> Interpreter::PadSequences(const CallArgs& args, const Expr& expr) {
  if (args.positional.empty() || !args.positional[0].is(Value::Kind::kArray) ||
      args.positional[0].array->format != "sequences") {
    return Value::Unknown("'" + expr.source + "' pads data the importer does not know as token " +
                              "sequences (keras.datasets.imdb.load_data)",
                          expr.line, expr.source);
  }
  auto array = std::make_shared<DataArray>(*args.positional[0].array);
  SequenceParams& params = array->sequences;
  params.padded = true;
  const std::vector<std::string> order = {"sequences", "maxlen",     "dtype",
                                          "padding",   "truncating", "value"};
  for (size_t i = 1; i < args.positional.size() && i < order.size(); ++i) {
    if (order[i] == "maxlen") {
      CB_ASSIGN_OR_RETURN(params.maxlen, WholeNumber(args.positional[i], "maxlen"));
    }
  }
  for (const auto& [keyword, value] : args.keywords) {
    if (keyword == "maxlen") {
      if (value.is(Value::Kind::kNone)) continue;
      CB_ASSIGN_OR_RETURN(params.maxlen, WholeNumber(value, "pad_sequences' maxlen"));
    } else if (keyword == "padding" || keyword == "truncating") {
      if (!value.is(Value::Kind::kString) || (value.text != "pre" && value.text != "post")) {
        return Status::InvalidArgument("'" + expr.source + "': " + keyword +
                                       " must be 'pre' or 'post'");
      }
      (keyword == "padding" ? params.padding : params.truncating) = value.text;
    } else if (keyword == "value") {
      CB_ASSIGN_OR_RETURN(params.value, WholeNumber(value, "pad_sequences' value"));
    } else if (keyword == "dtype") {
      if (!value.is(Value::Kind::kString) || !StartsWith(value.text, "int")) {
        return Status::InvalidArgument("'" + expr.source +
                                       "': token ids stay integers; remove dtype=");
      }
    } else {
      return Status::InvalidArgument("'" + expr.source + "': pad_sequences' argument '" + keyword +
                                     "' is not supported");
    }
  }
  if (params.maxlen < 1) {
    return Status::InvalidArgument("'" + expr.source +
                                   "': give maxlen= (cloudbook needs the sequence length at "
                                   "import; Keras' default is the longest sequence)");
  }
  array->sample_shape = {params.maxlen};
  return ArrayValue(array);
}

// keras.datasets.imdb.load_data(num_words=...): the sequences data-arrays'
// scripts/imdb_to_sequences.py writes from imdb.npz (Keras' shuffle, start_char, index_from;
// load_data's own options are that script's flags, named in the summary).
Result<Value> Interpreter::LoadImdb(const CallArgs& args, const Expr& expr) {
  SequenceParams params;
  std::string flags;
  for (const auto& [keyword, value] : args.keywords) {
    if (keyword == "path") continue;
    if (keyword == "num_words") {
      if (value.is(Value::Kind::kNone)) continue;
      CB_ASSIGN_OR_RETURN(params.num_words, WholeNumber(value, "imdb num_words"));
      continue;
    }
    static const std::map<std::string, std::pair<std::string, int64_t>> options = {
        {"maxlen", {"--drop-longer-than", 0}},
        {"seed", {"--seed", 113}},
        {"start_char", {"--start-char", 1}},
        {"oov_char", {"--oov-char", 2}},
        {"index_from", {"--index-from", 3}}};
    const auto found = options.find(keyword);
    if (found == options.end() || (keyword != "maxlen" && value.is(Value::Kind::kNone))) {
      return Status::InvalidArgument(
          "'" + expr.source + "': imdb.load_data's " + keyword +
          " cannot be carried (scripts/imdb_to_sequences.py takes num_words, maxlen, seed, "
          "start_char, oov_char and index_from)");
    }
    if (value.is(Value::Kind::kNone)) continue;
    CB_ASSIGN_OR_RETURN(const int64_t number, WholeNumber(value, "imdb " + keyword));
    if (keyword == "oov_char") params.oov = number;
    if (number != found->second.second) {
      flags += " " + found->second.first + " " + std::to_string(number);
    }
  }
  if (!args.positional.empty()) {
    return Status::InvalidArgument("'" + expr.source +
                                   "': give imdb.load_data's arguments by name");
  }
  std::vector<Value> splits;
  for (const std::string split : {"train", "test"}) {
    auto x = std::make_shared<DataArray>();
    x->dataset = "imdb";
    x->format = "sequences";
    x->path = "imdb/" + split + ".txt";
    x->line = expr.line;
    x->sequences = params;
    auto y = std::make_shared<DataArray>();
    y->dataset = "imdb";
    y->format = "npy";
    y->path = "imdb/y_" + split + ".npy";
    y->labels = true;
    y->num_classes = 2;
    y->line = expr.line;
    splits.push_back(Value::Sequence({ArrayValue(x), ArrayValue(y)}, false));
  }
  imdb_flags_ = flags;
  SummaryNote(expr.line,
              "imdb: cloudbook reads imdb/train.txt, imdb/y_train.npy, imdb/test.txt and "
              "imdb/y_test.npy in working_dir; make them from Keras' imdb.npz with "
              "/usr/bin/python3 scripts/imdb_to_sequences.py imdb.npz <working_dir>/imdb" +
                  flags + " (the same reviews, order and word ids as this load_data call)");
  return Value::Sequence(std::move(splits), false);
}

// image_dataset_from_directory(path, image_size=, color_mode=, batch_size=, ...): one
// sub-folder per class, class ids by sorted folder names (the program format's images:).
Result<Value> Interpreter::ImageFolderDataset(const CallArgs& args, const Expr& expr) {
  const auto refuse = [&](const std::string& why) {
    return Status::InvalidArgument("'" + expr.source + "': " + why);
  };
  ImageFolder folder;
  folder.color = "rgb";
  folder.size = {256, 256};
  folder.line = expr.line;
  std::string directory;
  if (!args.positional.empty() && args.positional[0].is(Value::Kind::kString)) {
    directory = args.positional[0].text;
  }
  if (args.positional.size() > 1) return refuse("give the arguments after the folder by name");
  std::optional<int64_t> batch;
  for (const auto& [keyword, value] : args.keywords) {
    const std::string text = value.is(Value::Kind::kString) ? value.text
                             : value.is(Value::Kind::kNone) ? "None"
                             : value.is(Value::Kind::kBool) ? (value.number ? "True" : "False")
                                                            : "";
    if (keyword == "directory" && value.is(Value::Kind::kString)) {
      directory = value.text;
    } else if (keyword == "image_size") {
      CB_ASSIGN_OR_RETURN(folder.size, ShapeOf(value, "image_size"));
      if (folder.size.size() != 2) return refuse("image_size is (height, width)");
    } else if (keyword == "color_mode") {
      if (text != "rgb" && text != "grayscale") {
        return refuse("color_mode '" + text + "' cannot be carried; valid: rgb, grayscale");
      }
      folder.color = text;
    } else if (keyword == "batch_size") {
      CB_ASSIGN_OR_RETURN(batch, WholeNumber(value, "batch_size"));
    } else if ((keyword == "labels" && text == "inferred") ||
               (keyword == "label_mode" && text == "int") ||
               (keyword == "interpolation" && text == "bilinear") ||
               (keyword == "crop_to_aspect_ratio" && text == "False") ||
               (keyword == "class_names" && text == "None") || keyword == "shuffle" ||
               keyword == "follow_links" || (keyword == "seed" && !Keyword(args, "subset")) ||
               keyword == "verbose") {
      continue;
    } else if (keyword == "validation_split" || keyword == "subset" || keyword == "seed") {
      if (text == "None") continue;
      return refuse(
          "validation_split / subset cannot be carried exactly: Keras keeps the last "
          "int(s*n) files of its seeded shuffle for validation, cloudbook cuts "
          "n - floor(n*(1-s)) rows (one file more whenever s*n is not whole). Split the "
          "folder beforehand (train/ and val/ with the same class sub-folders) and pass "
          "validation_data=image_dataset_from_directory('<val folder>', ...), or test on a "
          "test folder");
    } else {
      return refuse("the argument " + keyword + "=" + (text.empty() ? Describe(value) : text) +
                    " cannot be carried (understood: image_size, color_mode rgb/grayscale, "
                    "batch_size, labels='inferred', label_mode='int', shuffle, seed)");
    }
  }
  const std::string path = RelativePath(directory);
  if (path.empty()) {
    return refuse(
        "the folder must be a plain string relative to distributed/working_dir, "
        "without '..'");
  }
  auto array = std::make_shared<DataArray>();
  array->format = "images";
  array->path = path;
  array->line = expr.line;
  array->images = folder;
  array->sample_shape = {folder.size[0], folder.size[1], folder.color == "rgb" ? 3 : 1};
  array->num_classes = 0;
  if (batch) array->images_batch = *batch;
  return ArrayValue(array);
}

}  // namespace cloudbook::keras_import
