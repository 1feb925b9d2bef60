#include "maker/program_model_section.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "maker/layer_rules.h"
#include "maker/layer_wiring.h"
#include "shared/spelling.h"
#include "shared/text.h"

namespace cloudbook::program_parsing {
namespace {

Result<std::vector<NumberOrVar>> ParseLayerNumbers(const FieldReader& reader, const Field& field,
                                                   const ParamRule& rule) {
  const bool integer = rule.kind == ParamKind::kInt;
  std::vector<Field> items;
  if (field.node.IsSequence()) {
    const size_t n = field.node.size();
    if (rule.arity == Arity::kOne) {
      return reader.Error(field, std::string("expected a single ") +
                                     (integer ? "integer" : "number") + " or variable, got a list");
    }
    if (n == 0 || (rule.arity == Arity::kOneOrTwo && n > 2)) {
      return reader.Error(
          field, rule.arity == Arity::kOneOrTwo
                     ? "expected an integer or a list [h, w], got a list of " + std::to_string(n)
                     : std::string("expected a non-empty list of integers"));
    }
    for (size_t i = 0; i < n; ++i) items.push_back(Element(field, i));
  } else {
    items.push_back(field);
  }

  std::vector<NumberOrVar> numbers;
  bool seen_minus_one = false;
  for (const Field& item : items) {
    CB_ASSIGN_OR_RETURN(const NumberOrVar number, reader.Number(item, integer));
    const std::string shown =
        number.is_var() ? number.var + " = " + NumberText(number.value) : item.node.Scalar();
    if (integer) {
      // reshape may infer one dimension, as Keras does.
      const bool inferred = rule.name == "shape" && !number.is_var() && number.value == -1;
      if (inferred && seen_minus_one)
        return reader.Error(item, "-1 may appear only once in a shape");
      seen_minus_one = seen_minus_one || inferred;
      if (!inferred && number.value < 1) {
        return reader.Error(item, std::string("must be >= 1") +
                                      (rule.name == "shape" ? " (or -1)" : "") + ", got " + shown);
      }
    } else if (const std::string problem = RealRangeProblem(rule.name, number.value);
               !problem.empty()) {
      return reader.Error(item, problem + ", got " + shown);
    }
    numbers.push_back(number);
  }
  return numbers;
}

Result<LayerSpec> ParseLayer(const FieldReader& reader, const Field& item) {
  LayerSpec layer;
  layer.line = item.line;
  Field params{YAML::Node(), item.path, item.line};
  if (item.node.IsScalar()) {
    layer.type = item.node.Scalar();
  } else if (item.node.IsMap() && item.node.size() == 1) {
    const auto entry = *item.node.begin();
    if (!entry.first.IsScalar()) {
      return reader.Error(item,
                          std::string("a layer type must be a word, got ") + KindOf(entry.first));
    }
    layer.type = entry.first.Scalar();
    params.node = entry.second;
  } else if (item.node.IsMap()) {
    std::vector<std::string> keys;
    for (const auto& entry : item.node) {
      keys.push_back(entry.first.IsScalar() ? entry.first.Scalar() : KindOf(entry.first));
    }
    return reader.Error(item,
                        "a layer is a single key, its type, holding its parameters, like "
                        "`- dense: {units: _NEURON_1, activation: relu}`; got keys " +
                            Join(keys) + " (indent the parameters under the type)");
  } else {
    return reader.Error(item, std::string("expected a layer type (like flatten) or a mapping like "
                                          "`- dense: {units: _NEURON_1}`, got ") +
                                  KindOf(item.node));
  }

  const auto& rules = LayerRules();
  const auto rule = std::find_if(rules.begin(), rules.end(),
                                 [&](const LayerRule& r) { return r.type == layer.type; });
  if (rule == rules.end()) {
    return reader.Error(item, "unknown layer type '" + layer.type + "'; valid: " +
                                  Join(LayerTypes()) + DidYouMean(layer.type, LayerTypes()));
  }
  params.path = item.path + " (" + layer.type + ")";
  std::vector<std::string> names;
  for (const ParamRule& param : rule->params) names.push_back(param.name);
  names.insert(names.end(), {kLayerNameKey, kLayerInputsKey});  // every layer: the DAG words
  Entries entries;
  if (params.node.IsDefined() && !params.node.IsNull()) {  // `- flatten:` has no parameters
    CB_ASSIGN_OR_RETURN(entries, reader.Mapping(params, &names, "parameter"));
  }
  CB_RETURN_IF_ERROR(ParseLayerWiring(reader, entries, &layer));

  for (const ParamRule& param : rule->params) {
    const Field* field = Find(entries, param.name);
    if (field == nullptr) {
      if (param.required) return reader.Missing(params, param.name, "parameter");
      if (!param.default_word.empty()) layer.words[param.name] = param.default_word;
      for (double value : param.default_numbers) layer.numbers[param.name].push_back({value, ""});
      continue;
    }
    switch (param.kind) {
      case ParamKind::kWord: {
        CB_ASSIGN_OR_RETURN(layer.words[param.name], reader.Word(*field, param.words));
        break;
      }
      case ParamKind::kBool: {
        CB_ASSIGN_OR_RETURN(const bool value, reader.Bool(*field));
        layer.words[param.name] = value ? "true" : "false";
        break;
      }
      case ParamKind::kInt:
      case ParamKind::kReal: {
        CB_ASSIGN_OR_RETURN(layer.numbers[param.name], ParseLayerNumbers(reader, *field, param));
        break;
      }
    }
  }
  const bool pool = layer.type == "maxpool2d" || layer.type == "avgpool2d" ||
                    layer.type == "maxpool1d" || layer.type == "avgpool1d";
  if (pool && !layer.numbers.count("stride")) {
    layer.numbers["stride"] = layer.numbers["pool"];  // Keras: strides default to pool_size
  }
  return layer;
}
}  // namespace

Status ParseModelSection(const FieldReader& reader, const Field& field, ModelSpec* model) {
  static const auto* keys = new std::vector<std::string>{"input", "input_dtype", "layers"};
  CB_ASSIGN_OR_RETURN(const Entries entries, reader.Mapping(field, keys, "key"));
  const Field* input = Find(entries, "input");
  const Field* layers = Find(entries, "layers");
  if (input == nullptr) return reader.Missing(field, "input", "key");
  if (layers == nullptr) return reader.Missing(field, "layers", "key");

  // The input shape is never reduced, so it takes literals only.
  if (input->node.IsSequence()) {
    if (input->node.size() == 0) return reader.Error(*input, "expected at least one dimension");
    for (size_t i = 0; i < input->node.size(); ++i) {
      CB_ASSIGN_OR_RETURN(const int64_t dim, reader.Int(Element(*input, i), 1));
      model->input_shape.push_back(dim);
    }
  } else {
    CB_ASSIGN_OR_RETURN(const int64_t dim, reader.Int(*input, 1));
    model->input_shape.push_back(dim);
  }
  if (const Field* dtype = Find(entries, "input_dtype")) {
    CB_ASSIGN_OR_RETURN(model->input_dtype, reader.Word(*dtype, {"float", "int64"}));
  }

  if (!layers->node.IsSequence() || layers->node.size() == 0) {
    return reader.Error(*layers,
                        std::string("expected a non-empty list of layers, got ") +
                            (layers->node.IsSequence() ? "an empty list" : KindOf(layers->node)));
  }
  for (size_t i = 0; i < layers->node.size(); ++i) {
    CB_ASSIGN_OR_RETURN(LayerSpec layer, ParseLayer(reader, Element(*layers, i)));
    model->layers.push_back(std::move(layer));
  }
  return Status::Ok();
}

}  // namespace cloudbook::program_parsing
