// Interpreter: class statements (issue 17). A keras.layers.Layer subclass is followed like
// Keras runs it: MyLayer(...) runs __init__ (self.x = layers built there), layer(x) runs call,
// whose layer applications join the functional graph. keras.io's TransformerBlock is then
// recognised from the nodes its call made (multihead_attention ... layernorm) and becomes
// transformer_block; TokenAndPositionEmbedding, Patches and PatchEncoder, whose calls use
// tf.range / extract_patches, from their sub-layers and the text of call. Anything else is
// refused with the line. Other classes are skipped outside the block.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "maker/keras_import/interpreter.h"

namespace cloudbook::keras_import {
namespace {

const Statement* Method(const Statement& class_def, const std::string& name) {
  for (const Statement& statement : class_def.body) {
    if (statement.kind == Statement::Kind::kDef && statement.text == name) return &statement;
  }
  return nullptr;
}

Value FunctionValue(const Statement* def) {
  Value function;
  function.kind = Value::Kind::kFunction;
  function.text = def->text;
  function.function = def;
  function.line = def->line;
  return function;
}

// Every expression of a block as written, joined (what call does, for the recognisers).
void CollectText(const Expr& expr, std::string* text) { *text += expr.source + "\n"; }

void CollectText(const Block& block, std::string* text) {
  for (const Statement& statement : block) {
    if (statement.value) CollectText(*statement.value, text);
    for (const ExprPtr& target : statement.targets) {
      if (target) CollectText(*target, text);
    }
    CollectText(statement.body, text);
    CollectText(statement.orelse, text);
  }
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const NumberOrVar* NumberOf(const LayerSpec& spec, const std::string& key) {
  const auto found = spec.numbers.find(key);
  return found == spec.numbers.end() || found->second.empty() ? nullptr : &found->second[0];
}

bool SameNumber(const NumberOrVar* a, const NumberOrVar* b) {
  return a != nullptr && b != nullptr && a->value == b->value && a->var == b->var;
}

std::string Word(const LayerSpec& spec, const std::string& key, const std::string& otherwise) {
  const auto found = spec.words.find(key);
  return found == spec.words.end() ? otherwise : found->second;
}

bool Reads(const GraphNode& node, std::vector<int> inputs) {
  std::vector<int> have = node.inputs;
  std::sort(have.begin(), have.end());
  std::sort(inputs.begin(), inputs.end());
  return have == inputs;
}

// keras.io's TransformerBlock (text_classification_with_transformer): the nine nodes its
// call makes from `input`, in order, as one transformer_block; nullopt when they differ.
std::optional<LayerSpec> MatchTransformerBlock(const FunctionalGraph& graph, int first, int input) {
  if (static_cast<int>(graph.nodes.size()) - first != 9) return std::nullopt;
  const auto node = [&](int i) -> const GraphNode& {
    return graph.nodes[static_cast<size_t>(first + i)];
  };
  const std::vector<std::string> types = {"multihead_attention",
                                          "dropout",
                                          "add",
                                          "layernorm",
                                          "dense",
                                          "dense",
                                          "dropout",
                                          "add",
                                          "layernorm"};
  for (int i = 0; i < 9; ++i) {
    if (node(i).spec.type != types[static_cast<size_t>(i)]) return std::nullopt;
  }
  const int at = first;
  if (!Reads(node(0), {input}) || !Reads(node(1), {at}) || !Reads(node(2), {input, at + 1}) ||
      !Reads(node(3), {at + 2}) || !Reads(node(4), {at + 3}) || !Reads(node(5), {at + 4}) ||
      !Reads(node(6), {at + 5}) || !Reads(node(7), {at + 3, at + 6}) || !Reads(node(8), {at + 7})) {
    return std::nullopt;
  }
  const LayerSpec& attention = node(0).spec;
  const NumberOrVar* key_dim = NumberOf(attention, "key_dim");
  const NumberOrVar* value_dim = NumberOf(attention, "value_dim");
  const NumberOrVar* dropout = NumberOf(attention, "dropout");
  if (!SameNumber(key_dim, NumberOf(node(5).spec, "units")) ||
      (value_dim != nullptr && !SameNumber(value_dim, key_dim)) ||
      (dropout != nullptr && dropout->value != 0) ||
      Word(attention, "use_bias", "true") != "true" ||
      Word(node(4).spec, "activation", "linear") != "relu" ||
      Word(node(5).spec, "activation", "linear") != "linear" ||
      !SameNumber(NumberOf(node(1).spec, "rate"), NumberOf(node(6).spec, "rate"))) {
    return std::nullopt;
  }
  const NumberOrVar* eps1 = NumberOf(node(3).spec, "epsilon");
  const NumberOrVar* eps2 = NumberOf(node(8).spec, "epsilon");
  const double epsilon1 = eps1 ? eps1->value : 1e-3;
  const double epsilon2 = eps2 ? eps2->value : 1e-3;
  if (epsilon1 != epsilon2) return std::nullopt;
  LayerSpec block;
  block.type = "transformer_block";
  block.line = attention.line;
  block.numbers["heads"] = attention.numbers.at("heads");
  block.numbers["ff_dim"] = node(4).spec.numbers.at("units");
  block.numbers["rate"] = node(1).spec.numbers.at("rate");
  NumberOrVar epsilon;
  epsilon.value = epsilon1;
  block.numbers["epsilon"] = {epsilon};
  return block;
}

}  // namespace

Status Interpreter::ExecClass(const Statement& statement) {
  const int line = statement.line;
  if (Strict() && block_.Contains(line)) {
    return Error(line, "a 'class' statement inside the SKYNNET block: define classes before it");
  }
  if (ContainsBlock(statement)) {
    return Error(line,
                 "the SKYNNET block is inside a 'class' statement, which the importer "
                 "does not run; put the block at the top level of the program or of a "
                 "function");
  }
  bool layer = false;
  for (const ExprPtr& base : statement.targets) {
    const Value value = EvalTolerant(*base);
    const std::string path = value.is(Value::Kind::kModule) ? Canonical(value.text) : "";
    layer = layer || path == "keras.layers.Layer" || path == "keras.Layer";
  }
  if (!layer) {
    RecordSkipped(statement, "class");
    Note(line,
         "skipped a 'class' statement (not a keras.layers.Layer subclass): " + statement.source);
    return Status::Ok();
  }
  Value value;
  value.kind = Value::Kind::kClass;
  value.text = statement.text;
  value.function = &statement;
  value.line = line;
  Bind(statement.text, value);
  return Status::Ok();
}

Result<Value> Interpreter::Instantiate(const Value& class_value, const CallArgs& args,
                                       const Expr& expr) {
  auto instance = std::make_shared<InstanceState>();
  instance->class_def = class_value.function;
  instance->line = expr.line;
  Value self;
  self.kind = Value::Kind::kInstance;
  self.instance = instance;
  self.line = expr.line;
  const Statement* init = Method(*class_value.function, "__init__");
  if (init != nullptr) {
    std::vector<Value> positional = {self};
    positional.insert(positional.end(), args.positional.begin(), args.positional.end());
    CB_ASSIGN_OR_RETURN(Value ignored,
                        CallFunction(FunctionValue(init), positional, expr.line, args.keywords));
    (void)ignored;
  }
  return self;
}

Result<Value> Interpreter::CallInstanceMethod(const Value& instance, const std::string& name,
                                              const CallArgs& args, const Expr& expr) {
  const Statement* def = Method(*instance.instance->class_def, name);
  if (def == nullptr) {
    return Value::Unknown("'" + expr.source + "': the class " + instance.instance->class_def->text +
                              " has no method " + name,
                          expr.line, expr.source);
  }
  std::vector<Value> positional = {instance};
  positional.insert(positional.end(), args.positional.begin(), args.positional.end());
  return CallFunction(FunctionValue(def), positional, expr.line, args.keywords);
}

Result<Value> Interpreter::CallInstance(const Value& instance, const CallArgs& args,
                                        const Expr& expr) {
  InstanceState& state = *instance.instance;
  const std::string& name = state.class_def->text;
  if (args.positional.empty() || !args.positional[0].is(Value::Kind::kTensor)) {
    if (!args.positional.empty() && args.positional[0].is(Value::Kind::kUnknown)) {
      return args.positional[0];
    }
    return Status::InvalidArgument("'" + expr.source + "': the layer " + name +
                                   " is applied to a tensor (from Input(shape=...) or a layer)");
  }
  if (state.called) {
    return Status::InvalidArgument(
        "'" + expr.source + "' applies the " + name +
        " object a second time: Keras then shares its weights between the two places, which "
        "the program format cannot express; create one object per place");
  }
  state.called = true;
  const TensorNode input = *args.positional[0].tensor;
  const int first = static_cast<int>(input.graph->nodes.size());
  CB_ASSIGN_OR_RETURN(Value result, CallInstanceMethod(instance, "call", args, expr));
  if (result.is(Value::Kind::kTensor) && result.tensor->graph == input.graph) {
    const auto block = MatchTransformerBlock(*input.graph, first, input.node);
    if (block) {
      input.graph->nodes.resize(static_cast<size_t>(first));
      LayerSpec spec = *block;
      spec.line = expr.line;
      return AppendNode({input}, spec, expr);
    }
    return result;  // inlined: the layers its call wires
  }
  return RecognizeLayerClass(state, input, first, result, expr);
}

Result<Value> Interpreter::RecognizeLayerClass(const InstanceState& instance,
                                               const TensorNode& input, int first,
                                               const Value& failed, const Expr& expr) {
  const Statement& class_def = *instance.class_def;
  std::string text;
  const Statement* call = Method(class_def, "call");
  if (call != nullptr) CollectText(call->body, &text);
  std::vector<std::pair<std::string, const LayerSpec*>> embeddings;
  std::vector<std::pair<std::string, const LayerSpec*>> denses;
  std::vector<std::pair<std::string, Value>> numbers;
  int other_layers = 0;
  for (const auto& [attribute, value] : instance.attributes) {
    if (value.is(Value::Kind::kLayer)) {
      const LayerSpec& spec = value.layer->spec;
      if (spec.type == "embedding") {
        embeddings.emplace_back(attribute, &spec);
      } else if (spec.type == "dense") {
        denses.emplace_back(attribute, &spec);
      } else {
        ++other_layers;
      }
    } else if (value.is(Value::Kind::kNumber)) {
      numbers.emplace_back(attribute, value);
    } else if (!value.is(Value::Kind::kNone) && !value.is(Value::Kind::kString)) {
      ++other_layers;
    }
  }
  const std::string parameter =
      call != nullptr && call->parameters.size() > 1 ? call->parameters[1] : "";
  const bool uses_range = Has(text, "range(") || Has(text, "arange(");
  LayerSpec spec;
  spec.line = expr.line;
  // TokenAndPositionEmbedding: token_emb(x) + pos_emb(range(maxlen)).
  if (embeddings.size() == 2 && denses.empty() && other_layers == 0 && uses_range) {
    const auto* token = &embeddings[0];
    const auto* position = &embeddings[1];
    if (!Has(text, "self." + token->first + "(" + parameter + ")")) std::swap(token, position);
    if (Has(text, "self." + token->first + "(" + parameter + ")") &&
        SameNumber(NumberOf(*token->second, "output_dim"),
                   NumberOf(*position->second, "output_dim"))) {
      spec.type = "token_position_embedding";
      spec.numbers["maxlen"] = position->second->numbers.at("input_dim");
      spec.numbers["vocab_size"] = token->second->numbers.at("input_dim");
      spec.numbers["embed_dim"] = token->second->numbers.at("output_dim");
    }
  }
  // PatchEncoder: projection(patch) + position_embedding(range(num_patches)).
  if (spec.type.empty() && embeddings.size() == 1 && denses.size() == 1 && other_layers == 0 &&
      uses_range &&
      SameNumber(NumberOf(*denses[0].second, "units"),
                 NumberOf(*embeddings[0].second, "output_dim")) &&
      Word(*denses[0].second, "activation", "linear") == "linear") {
    spec.type = "patch_encoder";
    spec.numbers["num_patches"] = embeddings[0].second->numbers.at("input_dim");
    spec.numbers["projection_dim"] = denses[0].second->numbers.at("units");
  }
  // Patches: extract_patches of size x size with the patch size the object keeps.
  if (spec.type.empty() && embeddings.empty() && denses.empty() && other_layers == 0 &&
      Has(text, "extract_patches") && numbers.size() == 1) {
    auto size = WholeNumber(numbers[0].second, "the patch size");
    if (size.ok() && *size >= 1) {
      spec.type = "patches";
      NumberOrVar number;
      number.value = static_cast<double>(*size);
      number.var = numbers[0].second.tag;
      spec.numbers["size"] = {number};
    }
  }
  if (spec.type.empty()) {
    return Status::InvalidArgument(
        "'" + expr.source + "': the layer class " + class_def.text + " (line " +
        std::to_string(class_def.line) +
        ") cannot be imported: its call does not wire known layers the importer can follow" +
        UnknownReason(failed) +
        ", and it is not one of keras.io's TransformerBlock, TokenAndPositionEmbedding, "
        "Patches, PatchEncoder (docs/keras-import.md)");
  }
  // The nodes the attempt made (the token embedding of x, the projection) are dropped.
  input.graph->nodes.resize(static_cast<size_t>(first));
  return AppendNode({input}, spec, expr);
}

}  // namespace cloudbook::keras_import
