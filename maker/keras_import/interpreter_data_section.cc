// Interpreter: the data section from what fit, predict and evaluate receive: each split's
// sources, the rows, shuffle, subset and label map they carry (the same for x and y, one
// label map for every split), the explicit validation set, and the data files to list.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "maker/keras_import/interpreter.h"

namespace cloudbook::keras_import {
namespace {

std::string MapText(const std::vector<double>& values) {
  std::string text;
  for (double value : values) {
    text += (text.empty() ? "" : ", ") + std::to_string(static_cast<int64_t>(value));
  }
  return "[" + text + "]";
}

}  // namespace

Result<ImportedSource> Interpreter::ImportSource(const Value& value, const std::string& what,
                                                 int line) {
  if (!value.is(Value::Kind::kArray) || value.array->format == "images") {
    return Error(line, what +
                           " must be data loaded from a Keras data set "
                           "(mnist / fashion_mnist / imdb .load_data()), np.load('<file>.npy' or "
                           "'.npz'), idx2numpy.convert_from_file('<path in working_dir>') or "
                           "image_dataset_from_directory('<folder>'); got " +
                           Describe(value) + UnknownReason(value) +
                           ". cloudbook reads the data itself, so only loading, dividing by "
                           "a number, reshaping, slicing rows, seeded shuffles and label maps "
                           "can be imported (docs/keras-import.md); make other changes "
                           "beforehand into files and load those");
  }
  const DataArray& array = *value.array;
  ImportedSource source;
  source.format = array.format;
  source.path = array.path;
  source.scale = array.scale;
  source.key = array.key;
  source.sequences = array.sequences;
  if (array.format == "sequences" && !array.sequences.padded) {
    return Error(line, what + " (token sequences loaded at line " + std::to_string(array.line) +
                           ") must be padded to one length with pad_sequences(x, maxlen=...)");
  }
  return source;
}

Result<ImportedSplit> Interpreter::ImportSplit(const Value& x, const Value& y,
                                               const std::string& what, int line,
                                               const std::string& x_what,
                                               const std::string& y_what) {
  ImportedSplit split;
  if (x.is(Value::Kind::kArray) && x.array->format == "images") {
    const Value& train = fit_model_->fit_x;
    if (train.is(Value::Kind::kArray) && train.array->sample_shape != x.array->sample_shape) {
      return Error(line, "the " + what + " image folder (line " + std::to_string(x.array->line) +
                             ") has image_size and channels " + ShapeText(x.array->sample_shape) +
                             ", the training folder " + ShapeText(train.array->sample_shape) +
                             ": cloudbook reads every folder at the model's input size");
    }
    if (x.array->images->loop) CB_RETURN_IF_ERROR(CheckLoopLabels(x, y, what, line));
    split.images = x.array->images;
    split.images_path = x.array->path;
    split.images_scale = x.array->scale;
    return split;
  }
  CB_ASSIGN_OR_RETURN(split.x,
                      ImportSource(x, x_what.empty() ? "the " + what + " inputs" : x_what, line));
  if (y.is(Value::Kind::kArray) && SameArray(x, y)) {
    split.y.format = "same_as_x";
  } else {
    CB_ASSIGN_OR_RETURN(
        split.y, ImportSource(y, y_what.empty() ? "the " + what + " targets" : y_what, line));
    const DataArray& a = *x.array;
    const DataArray& b = *y.array;
    if (a.rows != b.rows || a.shuffle_seed != b.shuffle_seed || a.subset != b.subset) {
      return Error(line, "the " + what + " inputs and targets take different rows (line " +
                             std::to_string(std::max(a.rows_line, b.rows_line)) +
                             "): slice, shuffle and subset x and y alike");
    }
  }
  return split;
}

Status Interpreter::AssembleData(const ModelState& model, ImportedData* data, bool* autoencoder) {
  const int fit_line = model.fit_line;
  const std::string train_what = "fit's training data ('" + model.fit_x_name + "')";
  *autoencoder = SameArray(model.fit_x, model.fit_y);
  if (*autoencoder) {
    if (model.fit_y.array->scale != model.fit_x.array->scale) {
      return Error(fit_line,
                   "fit's targets are its inputs scaled differently; scale both the same way");
    }
    if (block_.problem != ProblemType::kRegression) {
      return Error(fit_line,
                   "fit's targets are its inputs (an autoencoder): use #SKYNNET:BEGIN_REGRESSION");
    }
  }
  CB_ASSIGN_OR_RETURN(data->train,
                      ImportSplit(model.fit_x, model.fit_y, "training", fit_line, train_what,
                                  "fit's targets ('" + model.fit_y_name + "')"));
  if (!*autoencoder && !data->train.images) {
    if (model.fit_y.array->labels && model.fit_y.array->scale != 1) {
      return Error(fit_line, "the labels are divided by a number; keep them as class numbers");
    }
  }
  const DataArray& x = *model.fit_x.array;
  data->train_rows = x.rows;
  data->shuffle_seed = x.shuffle_seed;
  data->train_subset = x.subset;
  if (x.shuffle_seed || x.subset) {
    const int64_t seed = x.shuffle_seed ? *x.shuffle_seed : x.subset->second;
    SummaryNote(x.rows_line, "the training rows are drawn with seed " + std::to_string(seed) +
                                 " as numpy's legacy RandomState(" + std::to_string(seed) +
                                 ") draws them (cloudbook replays that generator), so the "
                                 "same rows as the original program");
  }
  // The label map, evaluated over the class ids.
  const std::vector<double>* map = nullptr;
  int map_line = 0;
  if (model.fit_y.is(Value::Kind::kArray) && !model.fit_y.array->label_values.empty()) {
    map = &model.fit_y.array->label_values;
    map_line = model.fit_y.array->label_line;
    if (block_.problem == ProblemType::kRegression) {
      return Error(map_line,
                   "the labels are mapped for a REGRESSION program; label maps are "
                   "for classification");
    }
    for (double value : *map) {
      if (value != std::floor(value) || value < 0) {
        return Error(map_line, "the label map gives " + MapText(*map) + " for the class ids 0.." +
                                   std::to_string(map->size() - 1) +
                                   ": each new label must be a whole number >= 0");
      }
      data->label_map.push_back(static_cast<int64_t>(value));
    }
  }
  const auto same_map = [&](const Value& labels, const std::string& what, int line) -> Status {
    const std::vector<double> none;
    const std::vector<double>& other =
        labels.is(Value::Kind::kArray) ? labels.array->label_values : none;
    if ((map == nullptr && other.empty()) || (map != nullptr && *map == other)) {
      return Status::Ok();
    }
    return Error(line, "the " + what + " labels are mapped differently from the training labels (" +
                           (map ? MapText(*map) + " at line " + std::to_string(map_line)
                                : std::string("unmapped")) +
                           ", " + (other.empty() ? std::string("unmapped") : MapText(other)) +
                           "): the program format applies one label_map to every split");
  };
  AddDataFile(model.fit_x, "training inputs");
  AddDataFile(model.fit_y, "training targets");
  // Validation.
  if (!model.validation_x.is(Value::Kind::kNone)) {
    CB_ASSIGN_OR_RETURN(
        ImportedSplit validation,
        ImportSplit(model.validation_x, model.validation_y, "validation", model.validation_line));
    for (const Value* side : {&model.validation_x, &model.validation_y}) {
      if (side->is(Value::Kind::kArray) &&
          (!side->array->rows.empty() || side->array->shuffle_seed || side->array->subset)) {
        return Error(model.validation_line,
                     "validation_data takes a part of its arrays (line " +
                         std::to_string(side->array->rows_line) +
                         "), which the program format cannot express for the validation set; "
                         "to validate on the last rows of the training data write "
                         "validation_split=<fraction>");
      }
    }
    CB_RETURN_IF_ERROR(same_map(model.validation_y, "validation", model.validation_line));
    if (model.validation_split > 0) {
      SummaryNote(model.validation_line,
                  "validation_data overrides validation_split (as in Keras)");
    }
    data->validation = validation;
    AddDataFile(model.validation_x, "validation inputs");
    AddDataFile(model.validation_y, "validation targets");
  } else {
    data->validation_split = model.validation_split;
    for (const std::string name : {"_DATA_VAL_X", "_DATA_VAL_Y"}) {
      if (data_lines_.count(name) > 0) {
        Warn(data_lines_[name], name + " is not used: cloudbook validates on validation_data=(" +
                                    "x, y) or the last validation_split of the training data");
      }
    }
  }
  // Test data: what predict receives (else _DATA_TEST_X) with _DATA_TEST_Y, else evaluate's.
  Value test_x = model.predict_x;
  if (!test_x.is(Value::Kind::kArray)) test_x = data_values_["_DATA_TEST_X"];
  Value test_y = data_values_["_DATA_TEST_Y"];
  int test_line = model.predict_line;
  if (model.predict_line != 0 && !model.predict_x.is(Value::Kind::kArray)) {
    return Error(model.predict_line, "predict's data ('" + model.predict_x_name +
                                         "') must be test data loaded like the training data; "
                                         "got " +
                                         Describe(model.predict_x) +
                                         UnknownReason(model.predict_x));
  }
  if (model.predict_line != 0 && model.predict_x_name != "_DATA_TEST_X") {
    Warn(model.predict_line, "predict uses '" + model.predict_x_name +
                                 "' rather than _DATA_TEST_X (the name the original sk_tool "
                                 "looks for); cloudbook tests on what predict receives");
  }
  const bool test_images = test_x.is(Value::Kind::kArray) && test_x.array->format == "images";
  if ((!test_x.is(Value::Kind::kArray) ||
       (!test_images && !test_y.is(Value::Kind::kArray) && !*autoencoder)) &&
      model.evaluate_x.is(Value::Kind::kArray)) {
    test_x = model.evaluate_x;
    test_y = model.evaluate_y;
    test_line = model.evaluate_line;
    const std::string skipped = source_ + ":" + std::to_string(test_line) + ": skipped";
    summary_notes_.erase(
        std::remove_if(summary_notes_.begin(), summary_notes_.end(),
                       [&](const std::string& note) { return StartsWith(note, skipped); }),
        summary_notes_.end());
    SummaryNote(test_line,
                "the test split is what evaluate receives here (its result, the "
                "scores, is not used)");
  }
  if (test_x.is(Value::Kind::kArray)) {
    const bool images = test_x.array->format == "images";
    bool have_y = true;
    if (!images &&
        (SameArray(test_x, test_y) || (*autoencoder && !test_y.is(Value::Kind::kArray)))) {
      if (!*autoencoder) {
        return Error(fit_line, "the test targets are the test inputs but fit's are not");
      }
      test_y = test_x;
    } else if (!images && !test_y.is(Value::Kind::kArray)) {
      have_y = false;
      Warn(test_line != 0 ? test_line : block_.begin_line,
           "no test targets (_DATA_TEST_Y" +
               std::string(test_y.is(Value::Kind::kUnknown) ? UnknownReason(test_y) : "") +
               "): the program gets no test split, so the composed prediction is not scored");
    }
    if (have_y) {
      CB_ASSIGN_OR_RETURN(ImportedSplit test, ImportSplit(test_x, test_y, "test", test_line));
      const DataArray& tx = *test_x.array;
      if (tx.shuffle_seed || tx.subset) {
        return Error(tx.rows_line,
                     "the test data is shuffled or subsampled; the program format "
                     "takes a slice of the test rows only (x_test[-10:])");
      }
      if (!images) CB_RETURN_IF_ERROR(same_map(test_y, "test", test_line));
      data->test_rows = tx.rows;
      data->test = test;
      AddDataFile(test_x, "test inputs");
      if (!images && !SameArray(test_x, test_y)) AddDataFile(test_y, "test targets");
    }
  } else {
    Warn(block_.begin_line,
         "no test data (predict(_DATA_TEST_X), _DATA_TEST_X or evaluate(x, y)): the composed "
         "prediction is not scored");
  }
  return Status::Ok();
}

// Images a loop read (interpreter_image_loops.cc) as fit and the model input use them.
Status Interpreter::CheckLoopLabels(const Value& x, const Value& y, const std::string& what,
                                    int line) {
  if (!y.is(Value::Kind::kArray) || !y.array->labels || y.array->format != "images" ||
      y.array->path != x.array->path) {
    return Error(line, "the " + what + " images (read by the loop at line " +
                           std::to_string(x.array->line) +
                           ") must be given with the class ids "
                           "the same loop appended; got " +
                           Describe(y) + UnknownReason(y));
  }
  const DataArray& a = *x.array;
  const DataArray& b = *y.array;
  if (a.rows != b.rows || a.shuffle_seed != b.shuffle_seed || a.subset != b.subset) {
    return Error(line, "the " + what + " images and class ids take different rows (line " +
                           std::to_string(std::max(a.rows_line, b.rows_line)) +
                           "): slice, shuffle and subset x and y alike");
  }
  return Status::Ok();
}

bool Interpreter::ImageInputFits(const DataArray& images, const std::vector<int64_t>& input) {
  if (!images.images->loop) return images.sample_shape == input;
  const bool gray = images.images->color == "grayscale";
  const size_t rank = input.size();
  if (rank < 2 || rank > 3 || (rank == 2 && !gray) || (rank == 3 && input[2] != (gray ? 1 : 3))) {
    return false;
  }
  const std::vector<int64_t>& size = images.images->size;
  return size.empty() || (size[0] == input[0] && size[1] == input[1]);
}

}  // namespace cloudbook::keras_import
