// Interpreter: the Keras calls that build a network: layers, Input and layer application
// (functional API), Sequential and Model, losses.
#include "maker/keras_import/interpreter.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cloudbook::keras_import {

Result<Value> Interpreter::CallKeras(const std::string& path, const CallArgs& args,
                                     const Expr& expr) {
  const std::string last = LastPart(path);
  const std::string parent = path.substr(0, path.rfind('.'));
  if (StartsWith(path, "keras.datasets.") && last == "load_data") {
    auto loaded = LoadKerasDataset(LastPart(parent), args, expr);
    if (!loaded.ok() && LastPart(parent) == "imdb" && fatal_.ok()) {
      fatal_ = AtLine(loaded.status(), expr.line);
    }
    return loaded;
  }
  if (path == "keras.Input" || path == "keras.layers.Input") {
    CB_ASSIGN_OR_RETURN(LayerObject input, MakeLayer("Input", args));
    auto tensor = std::make_shared<TensorNode>();
    tensor->input_id = ++next_input_id_;
    tensor->input_shape = *input.input_shape;
    tensor->input_dtype = input.input_dtype;
    tensor->input_line = expr.line;
    Value value;
    value.kind = Value::Kind::kTensor;
    value.tensor = tensor;
    return value;
  }
  if (parent == "keras.layers") {
    if (last == "Activation") {
      if (args.positional.size() != 1 || !args.positional[0].is(Value::Kind::kString)) {
        return Status::InvalidArgument("'" + expr.source +
                                       "': Activation takes one name, e.g. Activation('relu')");
      }
      LayerObject layer;
      layer.spec.type = "activation";
      layer.spec.words["activation"] = args.positional[0].text;
      layer.spec.line = expr.line;
      layer.source = expr.source;
      return LayerValue(std::move(layer));
    }
    auto layer = MakeLayer(last, args);
    if (!layer.ok()) {
      return Status::InvalidArgument("'" + expr.source + "': " + layer.status().message());
    }
    return LayerValue(std::move(*layer));
  }
  if (path == "keras.Sequential" || path == "keras.models.Sequential") {
    return MakeSequential(args, expr);
  }
  if (path == "keras.Model" || path == "keras.models.Model") return MakeFunctional(args, expr);
  if (StartsWith(path, "keras.optimizers.")) return MakeOptimizer(last, args, expr);
  if (StartsWith(path, "keras.losses.")) {
    Value loss;
    loss.kind = Value::Kind::kLoss;
    loss.text = last;
    for (const auto& [keyword, value] : args.keywords) {
      if (keyword == "from_logits" && value.is(Value::Kind::kBool) && value.number != 0) {
        return Status::InvalidArgument(
            "'" + expr.source +
            "': from_logits=True is not supported: cloudbook composes the probabilities of "
            "the output layer, so end the network with activation='softmax' and leave "
            "from_logits out");
      }
    }
    return loss;
  }
  if (path == "keras.utils.to_categorical") {
    return Status::InvalidArgument(
        "'" + expr.source +
        "': one-hot labels are not supported; keep the class numbers and use "
        "loss='sparse_categorical_crossentropy' (the same training)");
  }
  return Status::InvalidArgument("'" + expr.source + "': " + path +
                                 " is not part of the Keras subset the importer understands "
                                 "(docs/keras-import.md)");
}

Value Interpreter::LayerValue(LayerObject layer) {
  Value value;
  value.kind = Value::Kind::kLayer;
  value.line = layer.spec.line;
  value.layer = std::make_shared<const LayerObject>(std::move(layer));
  return value;
}

// Appends a layer; Activation('x') folds into the layer before it.
Status Interpreter::AppendLayer(std::vector<LayerSpec>* layers, const LayerObject& layer) {
  if (layer.spec.type != "activation") {
    layers->push_back(layer.spec);
    return Status::Ok();
  }
  const std::string& word = layer.spec.words.at("activation");
  if (layers->empty() || (layers->back().type != "dense" && layers->back().type != "conv2d") ||
      (layers->back().words.count("activation") > 0 &&
       layers->back().words.at("activation") != "linear")) {
    return Error(layer.spec.line,
                 "'" + layer.source +
                     "': an Activation layer is supported only right after a Dense or "
                     "Conv2D without an activation; write activation='" +
                     word + "' on that layer instead");
  }
  LayerSpec& previous = layers->back();
  auto check = MakeLayer("Dense", {{Value::Number(1, true)},
                                   {{"activation", Value::String(word)}},
                                   layer.spec.line,
                                   layer.source});
  if (!check.ok()) {
    return Error(layer.spec.line, "'" + layer.source + "': " + check.status().message());
  }
  previous.words["activation"] = word;
  return Status::Ok();
}

Result<Value> Interpreter::ApplyLayer(const LayerObject& layer, const CallArgs& args,
                                      const Expr& expr) {
  if (args.positional.size() != 1 || !args.keywords.empty()) {
    return Status::InvalidArgument("'" + expr.source +
                                   "': a layer is applied to one tensor, e.g. Dense(10)(x)");
  }
  const Value& input = args.positional[0];
  if (input.is(Value::Kind::kUnknown)) return input;
  if (!input.is(Value::Kind::kTensor)) {
    return Status::InvalidArgument("'" + expr.source +
                                   "': a layer is applied to a tensor (from "
                                   "Input(shape=...) or another layer); got " +
                                   Describe(input));
  }
  if (layer.spec.type == "input") {
    return Status::InvalidArgument("'" + expr.source + "': an InputLayer cannot be applied");
  }
  auto tensor = std::make_shared<TensorNode>(*input.tensor);
  CB_RETURN_IF_ERROR(AppendLayer(&tensor->layers, layer));
  Value value;
  value.kind = Value::Kind::kTensor;
  value.tensor = tensor;
  return value;
}

Status Interpreter::AddToSequential(ModelState* model, const Value& item,
                                    const std::string& where) {
  if (item.is(Value::Kind::kTensor) && item.tensor->layers.empty()) {
    if (!model->layers.empty() || model->input_shape) {
      return Error(item.tensor->input_line, "Input(...) must come first in " + where);
    }
    model->input_shape = item.tensor->input_shape;
    model->input_dtype = item.tensor->input_dtype;
    return Status::Ok();
  }
  if (!item.is(Value::Kind::kLayer)) {
    return Error(
        item.line > 0 ? item.line : model->line,
        where + " holds " + Describe(item) + ", not a Keras layer" +
            (item.is(Value::Kind::kUnknown) ? "" : "; supported layers: " + SupportedLayerList()));
  }
  const LayerObject& layer = *item.layer;
  if (layer.spec.type == "input") {
    if (!model->layers.empty() || model->input_shape) {
      return Error(layer.spec.line, "InputLayer must come first in " + where);
    }
    model->input_shape = layer.input_shape;
    model->input_dtype = layer.input_dtype;
    return Status::Ok();
  }
  if (model->layers.empty() && !model->input_shape) {
    if (layer.input_shape) model->input_shape = layer.input_shape;
    model->input_dtype = layer.input_dtype;
  } else if (layer.input_shape && !model->layers.empty()) {
    Warn(layer.spec.line,
         "input_shape on a layer that is not the first one is ignored (as "
         "Keras does)");
  }
  return AppendLayer(&model->layers, layer);
}

Result<Value> Interpreter::MakeSequential(const CallArgs& args, const Expr& expr) {
  auto model = std::make_shared<ModelState>();
  model->line = expr.line;
  std::optional<Value> layers;
  if (!args.positional.empty()) layers = args.positional[0];
  for (const auto& [keyword, value] : args.keywords) {
    if (keyword == "layers") {
      layers = value;
    } else if (keyword != "name") {
      return Status::InvalidArgument("'" + expr.source + "': Sequential's argument '" + keyword +
                                     "' is not supported");
    }
  }
  if (layers && !layers->is(Value::Kind::kNone)) {
    if (!layers->is(Value::Kind::kSequence)) {
      return Status::InvalidArgument("'" + expr.source +
                                     "': Sequential takes a list of layers; got " +
                                     Describe(*layers) + UnknownReason(*layers));
    }
    for (size_t i = 0; i < layers->items.size(); ++i) {
      const Value& item = layers->items[i];
      if (item.is(Value::Kind::kUnknown)) {
        return Error(expr.line, "item " + std::to_string(i + 1) +
                                    " of Sequential([...]) is "
                                    "not a layer the importer understands" +
                                    UnknownReason(item));
      }
      CB_RETURN_IF_ERROR(AddToSequential(model.get(), item, "Sequential([...])"));
    }
  }
  Value value;
  value.kind = Value::Kind::kModel;
  value.model = model;
  value.line = expr.line;
  return value;
}

Result<Value> Interpreter::MakeFunctional(const CallArgs& args, const Expr& expr) {
  std::optional<Value> inputs;
  std::optional<Value> outputs;
  if (!args.positional.empty()) inputs = args.positional[0];
  if (args.positional.size() > 1) outputs = args.positional[1];
  for (const auto& [keyword, value] : args.keywords) {
    if (keyword == "inputs") {
      inputs = value;
    } else if (keyword == "outputs") {
      outputs = value;
    } else if (keyword != "name") {
      return Status::InvalidArgument("'" + expr.source + "': Model's argument '" + keyword +
                                     "' is not supported");
    }
  }
  if (!inputs || !outputs) {
    return Status::InvalidArgument(
        "'" + expr.source +
        "': Model needs inputs and outputs (Model(inputs, outputs)); subclassed models are "
        "not supported: write the network with Sequential or the functional API");
  }
  for (std::optional<Value>* side : {&inputs, &outputs}) {
    if ((*side)->is(Value::Kind::kSequence)) {
      if ((*side)->items.size() != 1) {
        return Status::InvalidArgument("'" + expr.source +
                                       "': cloudbook networks have one input and one output");
      }
      *side = (*side)->items[0];
    }
    if ((*side)->is(Value::Kind::kUnknown)) {
      return Status::InvalidArgument(
          "'" + expr.source +
          "': " + (side == &inputs ? std::string("inputs") : std::string("outputs")) +
          " cannot be followed" + UnknownReason(**side));
    }
    if (!(*side)->is(Value::Kind::kTensor)) {
      return Status::InvalidArgument("'" + expr.source + "': expected Keras tensors, got " +
                                     Describe(**side));
    }
  }
  if (!inputs->tensor->layers.empty() || inputs->tensor->input_id != outputs->tensor->input_id) {
    return Status::InvalidArgument(
        "'" + expr.source +
        "': the outputs must be computed from the inputs (an Input(shape=...) followed by "
        "layers applied one after another)");
  }
  auto model = std::make_shared<ModelState>();
  model->line = expr.line;
  model->functional = true;
  model->input_shape = inputs->tensor->input_shape;
  model->input_dtype = inputs->tensor->input_dtype;
  model->layers = outputs->tensor->layers;
  if (!model->layers.empty() && model->layers[0].type == "embedding") {
    model->input_dtype = "int64";
  }
  Value value;
  value.kind = Value::Kind::kModel;
  value.model = model;
  value.line = expr.line;
  return value;
}

}  // namespace cloudbook::keras_import
