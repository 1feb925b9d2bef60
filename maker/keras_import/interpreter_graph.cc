// Interpreter: the functional API's graph (issue 17). Layers applied to tensors become nodes
// of the Input's graph: one input, a list (Add()([a, b]), a + b), or MultiHeadAttention's
// query / value / key. Model(inputs, outputs) keeps the nodes the output needs, in the order
// they were made, and names those read by a layer that is not the next one (the program
// format's name / inputs). A layer object applied twice (shared weights) is refused.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "maker/keras_import/interpreter.h"

namespace cloudbook::keras_import {
namespace {

Value TensorValue(std::shared_ptr<TensorNode> tensor) {
  Value value;
  value.kind = Value::Kind::kTensor;
  value.tensor = std::move(tensor);
  return value;
}

}  // namespace

Result<Value> Interpreter::AppendNode(const std::vector<TensorNode>& inputs, LayerSpec spec,
                                      const Expr& expr) {
  const std::shared_ptr<FunctionalGraph>& graph = inputs[0].graph;
  std::vector<int> ids;
  for (const TensorNode& input : inputs) {
    if (input.graph != graph) {
      return Status::InvalidArgument("'" + expr.source +
                                     "': the tensors come from different Input(...)s; "
                                     "cloudbook networks have one input");
    }
    if (input.node >= 0 && graph->nodes[static_cast<size_t>(input.node)].folded != input.folded) {
      return Status::InvalidArgument(
          "'" + expr.source +
          "' reads a layer's output from before an Activation that was merged into that "
          "layer; give the layer its activation= directly and read it after");
    }
    ids.push_back(input.node);
  }
  // Activation('relu') right after a Dense or convolution without one, read by nothing else:
  // the same network as activation='relu' on it.
  if (spec.type == "activation" && ids.size() == 1 && ids[0] >= 0 &&
      ids[0] == static_cast<int>(graph->nodes.size()) - 1) {
    GraphNode& previous = graph->nodes.back();
    const bool foldable = previous.spec.type == "dense" || previous.spec.type == "conv2d" ||
                          previous.spec.type == "conv1d";
    const auto activation = previous.spec.words.find("activation");
    if (foldable && (activation == previous.spec.words.end() || activation->second == "linear")) {
      previous.spec.words["activation"] = spec.words.at("activation");
      ++previous.folded;
      auto tensor = std::make_shared<TensorNode>();
      tensor->graph = graph;
      tensor->node = ids[0];
      tensor->folded = previous.folded;
      return TensorValue(tensor);
    }
  }
  if (graph->nodes.size() >= 10000) {
    return Status::InvalidArgument("'" + expr.source + "': more than 10000 layers");
  }
  GraphNode node;
  node.spec = std::move(spec);
  node.inputs = std::move(ids);
  graph->nodes.push_back(std::move(node));
  auto tensor = std::make_shared<TensorNode>();
  tensor->graph = graph;
  tensor->node = static_cast<int>(graph->nodes.size()) - 1;
  return TensorValue(tensor);
}

Result<Value> Interpreter::ApplyLayer(const std::shared_ptr<const LayerObject>& layer,
                                      const CallArgs& args, const Expr& expr) {
  const std::string& type = layer->spec.type;
  if (type == "input") {
    return Status::InvalidArgument("'" + expr.source + "': an InputLayer cannot be applied");
  }
  std::vector<Value> given;
  if (type == "add") {
    if (args.positional.size() != 1 || !args.positional[0].is(Value::Kind::kSequence) ||
        args.positional[0].items.size() < 2) {
      return Status::InvalidArgument("'" + expr.source +
                                     "': Add is applied to a list of two or more tensors, "
                                     "Add()([a, b])");
    }
    given = args.positional[0].items;
  } else {
    given = args.positional;
  }
  const size_t most = type == "multihead_attention" ? 3 : given.size() == 0 ? 1 : given.size();
  for (const auto& [keyword, value] : args.keywords) {
    if (keyword == "training" || keyword == "mask") continue;  // fit trains in training mode
    if (type == "multihead_attention" &&
        (keyword == "query" || keyword == "value" || keyword == "key")) {
      const size_t at = keyword == "query" ? 0 : keyword == "value" ? 1 : 2;
      if (given.size() <= at) given.resize(at + 1);
      given[at] = value;
      continue;
    }
    if (type == "multihead_attention" &&
        ((keyword == "attention_mask" && value.is(Value::Kind::kNone)) ||
         ((keyword == "return_attention_scores" || keyword == "use_causal_mask") &&
          value.is(Value::Kind::kBool) && value.number == 0))) {
      continue;
    }
    return Status::InvalidArgument("'" + expr.source + "': the call argument '" + keyword +
                                   "' cannot be carried");
  }
  if (given.empty() || given.size() > most ||
      (type != "multihead_attention" && type != "add" && given.size() != 1)) {
    return Status::InvalidArgument(
        "'" + expr.source + "': a layer is applied to one tensor, e.g. Dense(10)(x)" +
        (type == "multihead_attention" ? std::string(" (MultiHeadAttention: query, value[, key])")
                                       : ""));
  }
  std::vector<TensorNode> inputs;
  for (const Value& input : given) {
    if (input.is(Value::Kind::kUnknown)) return input;
    if (!input.is(Value::Kind::kTensor)) {
      return Status::InvalidArgument("'" + expr.source +
                                     "': a layer is applied to a tensor (from "
                                     "Input(shape=...) or another layer); got " +
                                     Describe(input));
    }
    inputs.push_back(*input.tensor);
  }
  // Self-attention reads one tensor: MultiHeadAttention(...)(x, x).
  if (type == "multihead_attention" && inputs.size() == 2 && inputs[0].node == inputs[1].node &&
      inputs[0].graph == inputs[1].graph) {
    inputs.pop_back();
  }
  if (!applied_layers_.insert(layer).second) {
    return Status::InvalidArgument(
        "'" + expr.source +
        "' applies a layer object a second time: Keras then shares its "
        "weights between the two places, which the program format cannot express; create "
        "a new layer for each place");
  }
  return AppendNode(inputs, layer->spec, expr);
}

Result<Value> Interpreter::ApplyModel(const ModelState& model, const CallArgs& args,
                                      const Expr& expr) {
  if (model.functional || args.positional.size() != 1 || !args.keywords.empty()) {
    return Status::InvalidArgument("'" + expr.source +
                                   "': only a Sequential model is applied to a tensor (its "
                                   "layers one after another)");
  }
  Value current = args.positional[0];
  for (const LayerSpec& spec : model.layers) {
    auto layer = std::make_shared<LayerObject>();
    layer->spec = spec;
    layer->source = expr.source;
    CallArgs one;
    one.positional = {current};
    one.line = expr.line;
    one.source = expr.source;
    CB_ASSIGN_OR_RETURN(current, ApplyLayer(layer, one, expr));
  }
  return current;
}

Result<Value> Interpreter::AddTensors(const Value& left, const Value& right, const Expr& expr) {
  LayerSpec spec;
  spec.type = "add";
  spec.line = expr.line;
  return AppendNode({*left.tensor, *right.tensor}, spec, expr);
}

Result<std::vector<LayerSpec>> Interpreter::Linearize(const TensorNode& output, const Expr& expr) {
  const FunctionalGraph& graph = *output.graph;
  std::set<int> needed;
  std::vector<int> stack = {output.node};
  while (!stack.empty()) {
    const int id = stack.back();
    stack.pop_back();
    if (id < 0 || !needed.insert(id).second) continue;
    for (int input : graph.nodes[static_cast<size_t>(id)].inputs) stack.push_back(input);
  }
  const std::vector<int> order(needed.begin(), needed.end());  // creation order: topological
  // Which nodes are read other than by the next layer: those get a name.
  std::map<int, std::string> names;
  std::vector<bool> explicit_inputs(order.size(), false);
  for (size_t at = 0; at < order.size(); ++at) {
    const std::vector<int>& inputs = graph.nodes[static_cast<size_t>(order[at])].inputs;
    const int previous = at == 0 ? -1 : order[at - 1];
    if (inputs.size() == 1 && inputs[0] == previous) continue;
    explicit_inputs[at] = true;
    for (int input : inputs) {
      if (input >= 0) names[input] = "";
    }
  }
  std::map<std::string, int> per_type;
  std::vector<LayerSpec> layers;
  for (size_t at = 0; at < order.size(); ++at) {
    const GraphNode& node = graph.nodes[static_cast<size_t>(order[at])];
    LayerSpec spec = node.spec;
    const int count = ++per_type[spec.type];
    if (names.count(order[at]) > 0) {
      names[order[at]] = spec.type + "_" + std::to_string(count);
      spec.words["name"] = names[order[at]];
    }
    if (explicit_inputs[at]) {
      std::string list;
      for (int input : node.inputs)
        list += (list.empty() ? "" : ", ") + (input < 0 ? "input" : names[input]);
      spec.words["inputs"] = list;
    }
    layers.push_back(std::move(spec));
  }
  if (layers.empty()) {
    return Status::InvalidArgument("'" + expr.source + "': the model has no layers");
  }
  return layers;
}

}  // namespace cloudbook::keras_import
