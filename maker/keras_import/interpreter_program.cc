// Interpreter: the final Program from the trained model (data, layers, training) and its
// checks (output layer against the tagged variables, loss against the marker).
#include "maker/keras_import/interpreter.h"

#include <cmath>
#include <string>
#include <vector>

#include "maker/keras_import/tagged_names.h"
#include "maker/tagged_variables.h"
#include "shared/text.h"

namespace cloudbook::keras_import {

Result<InterpretedProgram> Interpreter::Assemble() {
  if (!fit_model_) {
    return Error(block_.begin_line, "no <model>.fit(...) in the SKYNNET block (lines " +
                                        std::to_string(block_.begin_line) + "-" +
                                        std::to_string(block_.end_line) +
                                        "): the block must build, compile and fit the network");
  }
  const ModelState& model = *fit_model_;
  Program program;
  program.name = name_;
  program.problem = block_.problem;
  if (block_.problem == ProblemType::kRegression) {
    if (!block_.metrics_suffix.empty()) {
      Warn(block_.begin_line, "the _" + block_.metrics_suffix +
                                  " suffix is ignored for REGRESSION: the composed "
                                  "prediction reports mse and mae");
    }
  } else if (block_.metrics_suffix == "ACC") {
    program.metrics = {"accuracy"};
  } else if (block_.metrics_suffix == "LOSS") {
    program.metrics = {"loss"};
  } else if (block_.metrics_suffix == "ACC_LOSS") {
    program.metrics = {"accuracy", "loss"};
  }
  if (model.layers.empty()) {
    return Error(model.line, "the model has no layers");
  }
  if (model.compile_line == 0) {
    return Error(model.fit_line,
                 "the model is trained without compile(...): add "
                 "model.compile(optimizer=..., loss=...) before fit");
  }
  // Data.
  ImportedData data;
  bool autoencoder = false;
  CB_RETURN_IF_ERROR(AssembleData(model, &data, &autoencoder));
  if (!data.train.images && (model.fit_x_name != "_DATA_TRAIN_X" ||
                             (model.fit_y_name != "_DATA_TRAIN_Y" &&
                              !(autoencoder && model.fit_y_name == "_DATA_TRAIN_X")))) {
    Warn(model.fit_line, "fit trains on '" + model.fit_x_name + "', '" + model.fit_y_name +
                             "' rather than _DATA_TRAIN_X, _DATA_TRAIN_Y: the original "
                             "sk_tool splits only the _DATA_ variables between the subnets, "
                             "so it would have trained every subnet on all the data; "
                             "cloudbook splits what fit receives");
  }
  // Model.
  program.model.layers = model.layers;
  CB_RETURN_IF_ERROR(FoldRescaling(&program.model.layers, &data));
  program.model.input_dtype = model.input_dtype;
  if (model.layers[0].type == "embedding" || model.layers[0].type == "token_position_embedding" ||
      model.fit_x.array->format == "sequences") {
    program.model.input_dtype = "int64";
  }
  const std::vector<int64_t>& data_shape = model.fit_x.array->sample_shape;
  if (model.input_shape) {
    program.model.input_shape = *model.input_shape;
    // An image folder is resized to image_size and decoded to its channels: the model's
    // input must be exactly that (cloudbook resizes every folder to model.input).
    if (model.fit_x.array->format == "images" &&
        !ImageInputFits(*model.fit_x.array, *model.input_shape)) {
      return Error(model.line, "the model's input " + ShapeText(*model.input_shape) +
                                   " is not the image folder's (line " +
                                   std::to_string(model.fit_x.array->line) + ") image_size " +
                                   "and channels " + ShapeText(data_shape));
    }
    if (!data_shape.empty() && Product(data_shape) != Product(*model.input_shape)) {
      return Error(model.line, "the model's input " + ShapeText(*model.input_shape) + " holds " +
                                   std::to_string(Product(*model.input_shape)) +
                                   " values per sample, but the training data (line " +
                                   std::to_string(model.fit_x.array->line) + ") has " +
                                   ShapeText(data_shape) + " (" +
                                   std::to_string(Product(data_shape)) + ")");
    }
  } else if (!data_shape.empty()) {
    program.model.input_shape = data_shape;
  } else {
    return Error(model.line,
                 "the model's input shape is not known: give the first layer "
                 "input_shape=(...) or start with Input(shape=(...))");
  }
  CB_RETURN_IF_ERROR(CheckOutput(model));
  // Normalization: adapted to the training inputs, as the program format adapts it.
  for (LayerSpec& layer : program.model.layers) {
    if (layer.type != "normalization") continue;
    const auto adapted = adapted_.find(layer.words["_adapt_id"]);
    layer.words.erase("_adapt_id");
    if (adapted == adapted_.end()) {
      return Error(layer.line,
                   "a Normalization layer that is never adapted: cloudbook adapts it "
                   "to the training inputs; call <layer>.adapt(" +
                       model.fit_x_name + ") before fit");
    }
    const Value& adapted_to = adapted->second;
    if (!SameArray(adapted_to, model.fit_x) || adapted_to.array->rows != model.fit_x.array->rows ||
        adapted_to.array->subset != model.fit_x.array->subset) {
      return Error(layer.line,
                   "the Normalization layer is adapted to other data than fit's "
                   "training inputs ('" +
                       model.fit_x_name +
                       "'): the program format adapts it to the training inputs");
    }
  }
  // Training.
  program.train.optimizer = model.optimizer.name;
  program.train.learning_rate =
      model.optimizer.learning_rate.value_or(model.optimizer.name == "sgd" ? 0.01 : 0.001);
  program.train.momentum = model.optimizer.momentum;
  program.train.loss = model.loss;
  CB_RETURN_IF_ERROR(CheckLoss(model));
  program.train.batch_size = model.batch_size;
  if (model.epochs.is(Value::Kind::kNumber)) {
    program.train.epochs.value = model.epochs.number;
    program.train.epochs.var = model.epochs.tag;
    if (model.epochs.tag.empty() && vars_.count("_EPOCHS") > 0) {
      Warn(model.fit_line,
           "_EPOCHS is defined but fit's epochs is not _EPOCHS, so the "
           "epochs are never reduced");
    }
  } else {
    program.train.epochs.value = 1;
    Warn(model.fit_line, "fit has no epochs=...: Keras trains 1 epoch, and so will cloudbook");
  }
  for (const auto& [name, var] : vars_) program.vars[name] = var.value;
  InterpretedProgram out;
  out.program = std::move(program);
  out.data = std::move(data);
  out.warnings = std::move(warnings_);
  out.notes = std::move(notes_);
  out.summary_notes = std::move(summary_notes_);
  out.data_files = std::move(data_files_);
  return out;
}

// Rescaling(1/k) as the first layer multiplies every input by 1/k: the same as the data's
// `scale: k` on each split (as x / 255 is). Elsewhere, or with an offset, it is refused.
Status Interpreter::FoldRescaling(std::vector<LayerSpec>* layers, ImportedData* data) {
  for (size_t i = 0; i < layers->size(); ++i) {
    const LayerSpec& layer = (*layers)[i];
    if (layer.type != "rescaling") continue;
    const double scale = layer.numbers.at("scale")[0].value;
    const auto offset = layer.numbers.find("offset");
    if (i != 0 || (offset != layer.numbers.end() && offset->second[0].value != 0) || scale <= 0 ||
        layer.words.count("name") > 0) {
      return Error(layer.line,
                   "Rescaling is carried only as the first layer, without offset, as the "
                   "data's scale (Rescaling(1./255) is scale: 255); divide the data instead");
    }
    for (ImportedSplit* split : {&data->train, data->test ? &*data->test : nullptr,
                                 data->validation ? &*data->validation : nullptr}) {
      if (split == nullptr) continue;
      if (split->images) {
        split->images_scale /= scale;
      } else {
        split->x.scale /= scale;
      }
    }
    SummaryNote(layer.line, "Rescaling(" + NumberText(scale) +
                                ") becomes the data's scale: " + NumberText(1 / scale));
    layers->erase(layers->begin());
    --i;
    for (const LayerSpec& other : *layers) {
      const auto inputs = other.words.find("inputs");
      if (inputs != other.words.end() &&
          (", " + inputs->second + ",").find(" input,") != std::string::npos) {
        return Error(other.line,
                     "this layer reads the model input before the Rescaling at "
                     "line " +
                         std::to_string(layer.line) + ", which the data's scale cannot express");
      }
    }
  }
  return Status::Ok();
}

Status Interpreter::CheckOutput(const ModelState& model) {
  const LayerSpec& last = model.layers.back();
  const std::string rule =
      "cloudbook (like sk_tool) takes the output size from the _NEURON_<k> with the highest "
      "k, so the last layer must be Dense(_NEURON_<k>, ...) with that variable";
  if (last.type != "dense") {
    return Error(last.line, "the last layer is " + last.type + ", not Dense: " + rule);
  }
  const NumberOrVar& units = last.numbers.at("units")[0];
  std::string highest;
  int64_t highest_k = 0;
  for (const auto& [name, var] : vars_) {
    const int64_t k = TaggedIndex(name, kNeuronFamily);
    if (k > highest_k) {
      highest_k = k;
      highest = name;
    }
  }
  if (units.var.empty() || TaggedIndex(units.var, kNeuronFamily) == 0) {
    return Error(last.line, "the output layer's units (" +
                                std::to_string(static_cast<int64_t>(units.value)) +
                                (units.var.empty() ? "" : ", " + units.var) +
                                ") are not a _NEURON_<k> variable: " + rule);
  }
  if (units.var != highest) {
    return Error(last.line, "the output layer uses " + units.var + " but the highest is " +
                                highest + " (line " + std::to_string(vars_[highest].line) +
                                "): " + rule + "; renumber the variables");
  }
  const int64_t outputs = static_cast<int64_t>(units.value);
  if (block_.problem == ProblemType::kBinary && outputs != 2) {
    return Error(last.line, "BINARYCLASS needs an output layer of 2 units (" + units.var + " = " +
                                std::to_string(outputs) +
                                "): the subnets compare the two probabilities; write Dense(" +
                                units.var + ", activation='softmax') with " + units.var +
                                " = 2 and loss='sparse_categorical_crossentropy' (labels 0 and 1)");
  }
  if (block_.problem == ProblemType::kMulticlass && outputs < 2) {
    return Error(last.line, "MULTICLASS needs at least 2 classes in the output layer (" +
                                units.var + " = " + std::to_string(outputs) + ")");
  }
  return Status::Ok();
}

Status Interpreter::CheckLoss(const ModelState& model) {
  const bool regression_loss = model.loss == "mse" || model.loss == "mae";
  if (regression_loss == (block_.problem == ProblemType::kRegression)) return Status::Ok();
  if (regression_loss) {
    return Error(model.loss_line, "the loss '" + model.loss + "' does not fit " + block_.marker +
                                      ": classification trains with "
                                      "loss='sparse_categorical_crossentropy'");
  }
  return Error(model.loss_line, "the loss '" + model.loss + "' does not fit " + block_.marker +
                                    ": cloudbook trains and composes REGRESSION with "
                                    "loss='mse' (or 'mae'); change the loss");
}

}  // namespace cloudbook::keras_import
