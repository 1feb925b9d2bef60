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
    auto graph = std::make_shared<FunctionalGraph>();
    graph->input_id = ++next_input_id_;
    graph->input_shape = *input.input_shape;
    graph->input_dtype = input.input_dtype;
    graph->input_line = expr.line;
    auto tensor = std::make_shared<TensorNode>();
    tensor->graph = graph;
    Value value;
    value.kind = Value::Kind::kTensor;
    value.tensor = tensor;
    return value;
  }
  if (parent == "keras.layers") {
    if (last == "Activation" || last == "ReLU") {
      CB_ASSIGN_OR_RETURN(std::string word, ActivationWord(last, args, expr));
      LayerObject layer;
      layer.spec.type = "activation";
      layer.spec.words["activation"] = word;
      layer.spec.line = expr.line;
      layer.source = expr.source;
      return LayerValue(std::move(layer));
    }
    auto layer = MakeLayer(last, args);
    if (!layer.ok()) {
      return Status::InvalidArgument("'" + expr.source + "': " + layer.status().message());
    }
    if (layer->spec.type == "normalization") {  // adapt(x) names it by this id
      layer->spec.words["_adapt_id"] = std::to_string(++next_layer_id_);
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

// Activation('relu') / ReLU(...): the activation word (checked against the list).
Result<std::string> Interpreter::ActivationWord(const std::string& class_name, const CallArgs& args,
                                                const Expr& expr) {
  std::string word = "relu";
  if (class_name == "Activation") {
    if (args.positional.size() != 1 || !(args.positional[0].is(Value::Kind::kString) ||
                                         args.positional[0].is(Value::Kind::kModule))) {
      return Status::InvalidArgument("'" + expr.source +
                                     "': Activation takes one name, e.g. Activation('relu')");
    }
    word = args.positional[0].is(Value::Kind::kString) ? args.positional[0].text
                                                       : LastPart(args.positional[0].text);
  } else {  // keras/src/layers/activations/relu.py: ReLU(max_value=None, negative_slope=0,
            // threshold=0)
    std::optional<double> max_value;
    const std::vector<std::string> order = {"max_value", "negative_slope", "threshold"};
    std::vector<std::pair<std::string, Value>> given = args.keywords;
    for (size_t i = 0; i < args.positional.size() && i < order.size(); ++i) {
      given.emplace_back(order[i], args.positional[i]);
    }
    for (const auto& [keyword, value] : given) {
      if (keyword == "max_value" && value.is(Value::Kind::kNone)) continue;
      if (keyword == "name") continue;
      if (!value.is(Value::Kind::kNumber) ||
          (keyword == "max_value" ? value.number != 6 : value.number != 0)) {
        return Status::InvalidArgument(
            "'" + expr.source + "': ReLU's " + keyword +
            " cannot be carried (cloudbook has relu and relu6: ReLU() or ReLU(max_value=6))");
      }
      if (keyword == "max_value") max_value = value.number;
    }
    if (max_value) word = "relu6";
  }
  auto check = MakeLayer(
      "Dense",
      {{Value::Number(1, true)}, {{"activation", Value::String(word)}}, expr.line, expr.source});
  if (!check.ok())
    return Status::InvalidArgument("'" + expr.source + "': " + check.status().message());
  return check->spec.words.at("activation");
}

// Appends a layer; Activation('x') folds into the Dense or convolution before it when that
// has none (the same network), else it stays an activation layer.
Status Interpreter::AppendLayer(std::vector<LayerSpec>* layers, const LayerObject& layer) {
  if (layer.spec.type == "activation" && !layers->empty() &&
      (layers->back().type == "dense" || layers->back().type == "conv2d" ||
       layers->back().type == "conv1d") &&
      (layers->back().words.count("activation") == 0 ||
       layers->back().words.at("activation") == "linear")) {
    layers->back().words["activation"] = layer.spec.words.at("activation");
    return Status::Ok();
  }
  layers->push_back(layer.spec);
  return Status::Ok();
}

Status Interpreter::AddToSequential(ModelState* model, const Value& item,
                                    const std::string& where) {
  if (item.is(Value::Kind::kTensor) && item.tensor->node == -1) {
    if (!model->layers.empty() || model->input_shape) {
      return Error(item.tensor->graph->input_line, "Input(...) must come first in " + where);
    }
    model->input_shape = item.tensor->graph->input_shape;
    model->input_dtype = item.tensor->graph->input_dtype;
    return Status::Ok();
  }
  if (!item.is(Value::Kind::kLayer)) {
    return Error(
        item.line > 0 ? item.line : model->line,
        where + " holds " + Describe(item) + ", not a Keras layer" +
            (item.is(Value::Kind::kUnknown) ? "" : "; supported layers: " + SupportedLayerList()));
  }
  const LayerObject& layer = *item.layer;
  if (layer.spec.type == "add" || layer.spec.type == "multihead_attention") {
    return Error(layer.spec.line, "'" + layer.source + "' in " + where +
                                      ": it takes several inputs, which Keras gives it only in "
                                      "the functional API (layer(x, y) / Add()([a, b]))");
  }
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
  if (inputs->tensor->node != -1 || inputs->tensor->graph != outputs->tensor->graph ||
      outputs->tensor->node == -1) {
    return Status::InvalidArgument(
        "'" + expr.source +
        "': the outputs must be computed from the inputs (an Input(shape=...) followed by "
        "layers applied to it)");
  }
  auto model = std::make_shared<ModelState>();
  model->line = expr.line;
  model->functional = true;
  model->input_shape = inputs->tensor->graph->input_shape;
  model->input_dtype = inputs->tensor->graph->input_dtype;
  CB_ASSIGN_OR_RETURN(model->layers, Linearize(*outputs->tensor, expr));
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
