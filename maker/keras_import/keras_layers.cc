#include "maker/keras_import/keras_layers.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "maker/keras_import/tagged_names.h"
#include "shared/spelling.h"
#include "shared/text.h"

namespace cloudbook::keras_import {
namespace {

// One Keras class: our layer type, its positional parameters in Keras' order, and the
// keywords it understands (keyword -> how to store it).
enum class Param { kInt, kIntPair, kIntOne, kReal, kActivation, kPadding, kBool, kShape, kIgnored };

struct ParamRule {
  std::string keyword;  // Keras' name
  std::string ours;     // the program format's name ("" for kIgnored)
  Param kind;
  bool required = false;
};

struct LayerClass {
  std::string type;               // program format type
  std::vector<ParamRule> params;  // positional order first, then keyword-only ones
  size_t positional = 0;          // how many of `params` may be positional
  std::map<std::string, std::string> accepted_defaults;  // keyword -> the only value allowed
};

// Accepted everywhere, never stored: they do not change what the network computes.
const std::set<std::string>& HarmlessKeywords() {
  static const auto* words = new std::set<std::string>{"name", "trainable"};
  return *words;
}

const std::map<std::string, LayerClass>& Classes() {
  static const auto* classes = [] {
    auto* table = new std::map<std::string, LayerClass>;
    const ParamRule input_shape{"input_shape", "", Param::kShape};
    const ParamRule activation{"activation", "activation", Param::kActivation};
    (*table)["Dense"] = {"dense",
                         {{"units", "units", Param::kInt, true},
                          activation,
                          input_shape,
                          {"input_dim", "", Param::kInt}},
                         2,
                         {{"use_bias", "True"}}};
    (*table)["Conv2D"] = {"conv2d",
                          {{"filters", "filters", Param::kInt, true},
                           {"kernel_size", "kernel", Param::kIntPair, true},
                           {"strides", "stride", Param::kIntPair},
                           {"padding", "padding", Param::kPadding},
                           activation,
                           input_shape},
                          4,
                          {{"use_bias", "True"},
                           {"data_format", "channels_last"},
                           {"dilation_rate", "1"},
                           {"groups", "1"}}};
    const LayerClass pooling = {"maxpool2d",
                                {{"pool_size", "pool", Param::kIntPair},
                                 {"strides", "stride", Param::kIntPair},
                                 {"padding", "padding", Param::kPadding},
                                 input_shape},
                                3,
                                {{"data_format", "channels_last"}}};
    (*table)["MaxPooling2D"] = pooling;
    (*table)["AveragePooling2D"] = pooling;
    (*table)["AveragePooling2D"].type = "avgpool2d";
    (*table)["GlobalAveragePooling2D"] = {
        "global_avgpool2d", {input_shape}, 0, {{"data_format", "channels_last"}}};
    (*table)["Flatten"] = {"flatten", {input_shape}, 0, {{"data_format", "channels_last"}}};
    (*table)["Reshape"] = {
        "reshape", {{"target_shape", "shape", Param::kShape, true}, input_shape}, 1, {}};
    (*table)["Dropout"] = {"dropout", {{"rate", "rate", Param::kReal, true}, input_shape}, 1, {}};
    (*table)["BatchNormalization"] = {"batchnorm",
                                      {{"axis", "", Param::kIgnored},
                                       {"momentum", "momentum", Param::kReal},
                                       {"epsilon", "epsilon", Param::kReal},
                                       input_shape},
                                      3,
                                      {{"center", "True"}, {"scale", "True"}}};
    (*table)["Embedding"] = {"embedding",
                             {{"input_dim", "input_dim", Param::kInt, true},
                              {"output_dim", "output_dim", Param::kInt, true},
                              {"input_length", "", Param::kInt},
                              input_shape},
                             2,
                             {}};
    const LayerClass recurrent = {"gru",
                                  {{"units", "units", Param::kInt, true},
                                   {"return_sequences", "return_sequences", Param::kBool},
                                   input_shape},
                                  1,
                                  {{"activation", "tanh"}, {"use_bias", "True"}}};
    (*table)["GRU"] = recurrent;
    (*table)["LSTM"] = recurrent;
    (*table)["LSTM"].type = "lstm";
    // Issue 17 (docs/design/keras-semantics.md section 2): Keras' signatures and defaults.
    // keras/src/layers/convolutional/conv1d.py: Conv1D(filters, kernel_size, strides=1,
    // padding="valid", data_format=None, dilation_rate=1, groups=1, activation=None, ...).
    (*table)["Conv1D"] = {
        "conv1d",
        {{"filters", "filters", Param::kInt, true},
         {"kernel_size", "kernel", Param::kIntOne, true},
         {"strides", "stride", Param::kIntOne},
         {"padding", "padding", Param::kPadding},
         {"dilation_rate", "dilation", Param::kIntOne},
         activation,
         input_shape},
        4,
        {{"use_bias", "True"}, {"data_format", "channels_last"}, {"groups", "1"}}};
    // keras/src/layers/pooling/max_pooling1d.py: (pool_size=2, strides=None, padding="valid").
    const LayerClass pooling1d = {"maxpool1d",
                                  {{"pool_size", "pool", Param::kIntOne},
                                   {"strides", "stride", Param::kIntOne},
                                   {"padding", "padding", Param::kPadding},
                                   input_shape},
                                  3,
                                  {{"data_format", "channels_last"}}};
    (*table)["MaxPooling1D"] = pooling1d;
    (*table)["AveragePooling1D"] = pooling1d;
    (*table)["AveragePooling1D"].type = "avgpool1d";
    const LayerClass global = {"global_avgpool1d",
                               {input_shape},
                               0,
                               {{"data_format", "channels_last"}, {"keepdims", "False"}}};
    (*table)["GlobalAveragePooling1D"] = global;
    (*table)["GlobalMaxPooling1D"] = global;
    (*table)["GlobalMaxPooling1D"].type = "global_maxpool1d";
    (*table)["GlobalMaxPooling2D"] = global;
    (*table)["GlobalMaxPooling2D"].type = "global_maxpool2d";
    (*table)["GlobalAveragePooling2D"].accepted_defaults["keepdims"] = "False";
    // keras/src/layers/preprocessing/normalization.py: adapted to the data (adapt).
    (*table)["Normalization"] = {"normalization",
                                 {{"axis", "", Param::kIgnored}, input_shape},
                                 1,
                                 {{"mean", "None"}, {"variance", "None"}, {"invert", "False"}}};
    // keras/src/layers/normalization/layer_normalization.py: (axis=-1, epsilon=1e-3, ...).
    (*table)["LayerNormalization"] = {
        "layernorm",
        {{"axis", "", Param::kIgnored}, {"epsilon", "epsilon", Param::kReal}, input_shape},
        2,
        {{"center", "True"}, {"scale", "True"}}};
    // keras/src/layers/attention/multi_head_attention.py: (num_heads, key_dim,
    // value_dim=None, dropout=0.0, use_bias=True, output_shape=None, attention_axes=None).
    (*table)["MultiHeadAttention"] = {"multihead_attention",
                                      {{"num_heads", "heads", Param::kInt, true},
                                       {"key_dim", "key_dim", Param::kInt, true},
                                       {"value_dim", "value_dim", Param::kInt},
                                       {"dropout", "dropout", Param::kReal},
                                       {"use_bias", "use_bias", Param::kBool}},
                                      5,
                                      {{"output_shape", "None"},
                                       {"attention_axes", "None"},
                                       {"kernel_initializer", "glorot_uniform"},
                                       {"bias_initializer", "zeros"}}};
    (*table)["Add"] = {"add", {}, 0, {}};
    // keras/src/layers/preprocessing/rescaling.py: x * scale + offset. Only as the first
    // layer, where it becomes the data's scale (the importer folds it there).
    (*table)["Rescaling"] = {
        "rescaling",
        {{"scale", "scale", Param::kReal, true}, {"offset", "offset", Param::kReal}, input_shape},
        2,
        {}};
    (*table)["MaxPool1D"] = (*table)["MaxPooling1D"];
    (*table)["AvgPool1D"] = (*table)["AveragePooling1D"];
    (*table)["GlobalAvgPool1D"] = (*table)["GlobalAveragePooling1D"];
    (*table)["GlobalMaxPool1D"] = (*table)["GlobalMaxPooling1D"];
    (*table)["GlobalMaxPool2D"] = (*table)["GlobalMaxPooling2D"];
    (*table)["MaxPool2D"] = (*table)["MaxPooling2D"];
    (*table)["AvgPool2D"] = (*table)["AveragePooling2D"];
    (*table)["GlobalAvgPool2D"] = (*table)["GlobalAveragePooling2D"];
    return table;
  }();
  return *classes;
}

const std::vector<std::string>& Activations() {
  static const auto* words = new std::vector<std::string>{
      "relu", "sigmoid", "tanh",     "softmax",  "linear", "elu",  "leaky_relu",
      "gelu", "relu6",   "softplus", "softsign", "selu",   "swish"};
  return *words;
}

// The text of a Python literal for comparing with an accepted default ("True", "1").
std::string LiteralText(const Value& value) {
  switch (value.kind) {
    case Value::Kind::kBool:
      return value.number != 0 ? "True" : "False";
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kString:
      return value.text;
    case Value::Kind::kNumber:
      return NumberText(value.number);
    case Value::Kind::kSequence: {  // (1, 1) reads as "1" when every item is
      if (value.items.empty()) return "()";
      const std::string first = LiteralText(value.items[0]);
      for (const Value& item : value.items) {
        if (LiteralText(item) != first) return "(...)";
      }
      return first;
    }
    default:
      return "?";
  }
}

Result<NumberOrVar> IntOrVar(const Value& value, const std::string& what) {
  if (value.is(Value::Kind::kNumber) && value.tag.empty() && !value.derived_tag.empty()) {
    return Status::InvalidArgument(
        what + " is computed from the tagged variable " + value.derived_tag +
        "; the program format takes a tagged variable or a plain number here, not an "
        "expression on one: give the width its own tagged variable (e.g. _NEURON_<k> = " +
        NumberText(value.number) + ")");
  }
  CB_ASSIGN_OR_RETURN(const int64_t number, WholeNumber(value, what));
  NumberOrVar out;
  out.value = static_cast<double>(number);
  out.var = value.tag;
  return out;
}

Result<std::string> WordOf(const Value& value, const std::string& what) {
  if (value.is(Value::Kind::kString)) return value.text;
  if (value.is(Value::Kind::kModule)) {  // tf.nn.relu, keras.activations.relu
    return value.text.substr(value.text.rfind('.') + 1);
  }
  if (value.is(Value::Kind::kNone)) return std::string("None");
  return Status::InvalidArgument(what + " must be a name such as 'relu'; got " + Describe(value) +
                                 UnknownReason(value));
}

}  // namespace

std::string UnknownReason(const Value& value) {
  if (!value.is(Value::Kind::kUnknown)) return "";
  std::string where = value.line > 0 ? " (line " + std::to_string(value.line) + ")" : "";
  return ": " + value.text + where;
}

Result<int64_t> WholeNumber(const Value& value, const std::string& what) {
  if (!value.is(Value::Kind::kNumber)) {
    if (value.is(Value::Kind::kUnknown)) {
      return Status::InvalidArgument(what + " must be a whole number the importer can read" +
                                     UnknownReason(value));
    }
    return Status::InvalidArgument(what + " must be a whole number; got " + Describe(value));
  }
  if (value.number != std::floor(value.number) || std::fabs(value.number) > 1e12) {
    std::ostringstream out;
    out << value.number;
    return Status::InvalidArgument(what + " must be a whole number; got " + out.str());
  }
  return static_cast<int64_t>(value.number);
}

Result<double> RealNumber(const Value& value, const std::string& what) {
  if (!value.is(Value::Kind::kNumber)) {
    return Status::InvalidArgument(what + " must be a number; got " + Describe(value) +
                                   UnknownReason(value));
  }
  return value.number;
}

Result<std::vector<int64_t>> ShapeOf(const Value& value, const std::string& what) {
  std::vector<int64_t> shape;
  if (value.is(Value::Kind::kNumber)) {
    CB_ASSIGN_OR_RETURN(const int64_t dim, WholeNumber(value, what));
    return std::vector<int64_t>{dim};
  }
  if (!value.is(Value::Kind::kSequence)) {
    return Status::InvalidArgument(what + " must be a tuple of whole numbers like (28, 28); got " +
                                   Describe(value) + UnknownReason(value));
  }
  for (const Value& item : value.items) {
    if (item.is(Value::Kind::kNone)) {
      return Status::InvalidArgument(what +
                                     " has None in it: cloudbook needs every size of a sample "
                                     "fixed (for sequences, the number of time steps)");
    }
    CB_ASSIGN_OR_RETURN(const int64_t dim, WholeNumber(item, what));
    shape.push_back(dim);
  }
  return shape;
}

bool IsSupportedLayer(const std::string& class_name) {
  return Classes().count(class_name) > 0 || class_name == "Input" || class_name == "InputLayer" ||
         class_name == "Activation" || class_name == "ReLU" || class_name == "Layer";
}

std::string SupportedLayerList() {
  return "Dense, Conv1D, Conv2D, MaxPooling1D/2D, AveragePooling1D/2D, "
         "GlobalAveragePooling1D/2D, GlobalMaxPooling1D/2D, Flatten, Reshape, Dropout, "
         "BatchNormalization, LayerNormalization, Normalization, Embedding, GRU, LSTM, "
         "MultiHeadAttention, Add, Activation, ReLU, Rescaling as the first layer (and Input / "
         "InputLayer)";
}

Result<LayerObject> MakeLayer(const std::string& class_name, const CallArgs& args) {
  LayerObject layer;
  layer.spec.line = args.line;
  layer.source = args.source;
  const std::string call = class_name + "(...)";
  if (class_name == "Input" || class_name == "InputLayer") {
    layer.spec.type = "input";
    const std::string shape_key = class_name == "Input" ? "shape" : "input_shape";
    std::optional<Value> shape;
    if (!args.positional.empty()) shape = args.positional[0];
    if (args.positional.size() > 1) {
      return Status::InvalidArgument(call + ": only the shape may be positional");
    }
    for (const auto& [keyword, value] : args.keywords) {
      if (keyword == shape_key || keyword == "shape" || keyword == "input_shape") {
        shape = value;
      } else if (keyword == "dtype") {
        CB_ASSIGN_OR_RETURN(std::string dtype, WordOf(value, call + " dtype"));
        if (dtype.rfind("int", 0) == 0) {
          layer.input_dtype = "int64";
        } else if (dtype.rfind("float", 0) != 0) {
          return Status::InvalidArgument(call + ": dtype '" + dtype +
                                         "' is not supported; valid: a float type, or an int "
                                         "type for token ids");
        }
      } else if (HarmlessKeywords().count(keyword) == 0 && keyword != "batch_size") {
        return Status::InvalidArgument(call + ": the argument '" + keyword +
                                       "' is not supported; give only shape= (and dtype=)");
      }
    }
    if (!shape) {
      return Status::InvalidArgument(call + ": needs " + shape_key +
                                     "=(...), the size of one "
                                     "sample, e.g. " +
                                     shape_key + "=(28, 28)");
    }
    CB_ASSIGN_OR_RETURN(std::vector<int64_t> dims, ShapeOf(*shape, call + " " + shape_key));
    layer.input_shape = dims;
    return layer;
  }
  const auto found = Classes().find(class_name);
  if (found == Classes().end()) {
    return Status::InvalidArgument("the Keras layer " + class_name +
                                   " is not supported; supported: " + SupportedLayerList());
  }
  const LayerClass& rule = found->second;
  layer.spec.type = rule.type;
  if (args.positional.size() > rule.positional) {
    return Status::InvalidArgument(call + ": takes at most " + std::to_string(rule.positional) +
                                   " positional arguments here; give the others by name");
  }
  std::map<std::string, Value> given;
  for (size_t i = 0; i < args.positional.size(); ++i)
    given[rule.params[i].keyword] = args.positional[i];
  for (const auto& [keyword, value] : args.keywords) {
    if (given.count(keyword) > 0) {
      return Status::InvalidArgument(call + ": '" + keyword + "' is given twice");
    }
    given[keyword] = value;
  }
  for (const auto& [keyword, value] : given) {
    const std::string& name = keyword;  // (a lambda cannot capture a structured binding)
    const bool known = std::any_of(rule.params.begin(), rule.params.end(),
                                   [&](const ParamRule& param) { return param.keyword == name; });
    if (known || HarmlessKeywords().count(keyword) > 0) continue;
    const auto accepted = rule.accepted_defaults.find(keyword);
    if (accepted != rule.accepted_defaults.end()) {
      if (LiteralText(value) == accepted->second) continue;
      return Status::InvalidArgument(call + ": " + keyword + "=" + LiteralText(value) +
                                     " is not supported; cloudbook always uses " + keyword + "=" +
                                     accepted->second + " (remove the argument)");
    }
    std::vector<std::string> valid;
    for (const ParamRule& param : rule.params) valid.push_back(param.keyword);
    return Status::InvalidArgument(call + ": the argument '" + keyword +
                                   "' is not supported (remove it); understood: " + Join(valid) +
                                   DidYouMean(keyword, valid));
  }
  for (const ParamRule& param : rule.params) {
    const auto it = given.find(param.keyword);
    const std::string what = class_name + " " + param.keyword;
    if (it == given.end()) {
      if (param.required) {
        return Status::InvalidArgument(call + ": missing the argument '" + param.keyword + "'");
      }
      continue;
    }
    const Value& value = it->second;
    switch (param.kind) {
      case Param::kInt: {
        if (param.keyword == "input_dim" && rule.type == "dense") {
          CB_ASSIGN_OR_RETURN(const int64_t dim, WholeNumber(value, what));
          layer.input_shape = std::vector<int64_t>{dim};
          break;
        }
        if (param.keyword == "input_length") {
          if (value.is(Value::Kind::kNone)) break;
          CB_ASSIGN_OR_RETURN(const int64_t length, WholeNumber(value, what));
          if (!layer.input_shape) layer.input_shape = std::vector<int64_t>{length};
          break;
        }
        CB_ASSIGN_OR_RETURN(NumberOrVar number, IntOrVar(value, what));
        if (number.value < 1) {
          return Status::InvalidArgument(what + " must be >= 1; got " +
                                         std::to_string(static_cast<int64_t>(number.value)));
        }
        layer.spec.numbers[param.ours] = {number};
        break;
      }
      case Param::kIntPair: {
        if (value.is(Value::Kind::kNone)) break;  // strides=None: as the pool
        std::vector<NumberOrVar> numbers;
        if (value.is(Value::Kind::kSequence)) {
          if (value.items.size() != 2) {
            return Status::InvalidArgument(what + " must be one number or a pair (h, w)");
          }
          for (const Value& item : value.items) {
            CB_ASSIGN_OR_RETURN(NumberOrVar number, IntOrVar(item, what));
            numbers.push_back(number);
          }
        } else {
          CB_ASSIGN_OR_RETURN(NumberOrVar number, IntOrVar(value, what));
          numbers.push_back(number);
        }
        for (const NumberOrVar& number : numbers) {
          if (number.value < 1) return Status::InvalidArgument(what + " must be >= 1");
        }
        layer.spec.numbers[param.ours] = numbers;
        break;
      }
      case Param::kIntOne: {
        if (value.is(Value::Kind::kNone)) break;  // strides=None: as the pool
        const Value* one = &value;
        if (value.is(Value::Kind::kSequence)) {
          if (value.items.size() != 1) {
            return Status::InvalidArgument(what + " must be one number (or a 1-tuple)");
          }
          one = &value.items[0];
        }
        CB_ASSIGN_OR_RETURN(NumberOrVar number, IntOrVar(*one, what));
        if (number.value < 1) return Status::InvalidArgument(what + " must be >= 1");
        layer.spec.numbers[param.ours] = {number};
        break;
      }
      case Param::kReal: {
        CB_ASSIGN_OR_RETURN(const double number, RealNumber(value, what));
        NumberOrVar out;
        out.value = number;
        layer.spec.numbers[param.ours] = {out};
        break;
      }
      case Param::kActivation: {
        CB_ASSIGN_OR_RETURN(std::string word, WordOf(value, what));
        if (word == "None") word = "linear";
        if (word == "LeakyReLU" || word == "leaky_ReLU") word = "leaky_relu";
        if (word == "silu") word = "swish";  // keras.activations.silu is swish
        if (std::find(Activations().begin(), Activations().end(), word) == Activations().end()) {
          return Status::InvalidArgument(what + " '" + word + "' is not supported; valid: " +
                                         Join(Activations()) + DidYouMean(word, Activations()));
        }
        layer.spec.words[param.ours] = word;
        break;
      }
      case Param::kPadding: {
        CB_ASSIGN_OR_RETURN(std::string word, WordOf(value, what));
        const bool causal = word == "causal" && rule.type == "conv1d";
        if (word != "valid" && word != "same" && !causal) {
          return Status::InvalidArgument(what + " '" + word + "' is not supported; valid: valid, " +
                                         (rule.type == "conv1d" ? "same, causal" : "same"));
        }
        layer.spec.words[param.ours] = word;
        break;
      }
      case Param::kBool:
        if (!value.is(Value::Kind::kBool)) {
          return Status::InvalidArgument(what + " must be True or False; got " + Describe(value));
        }
        layer.spec.words[param.ours] = value.number != 0 ? "true" : "false";
        break;
      case Param::kShape: {
        CB_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ShapeOf(value, what));
        if (param.keyword == "input_shape") {
          layer.input_shape = shape;
        } else {
          std::vector<NumberOrVar> numbers;
          for (int64_t dim : shape) {
            NumberOrVar number;
            number.value = static_cast<double>(dim);
            numbers.push_back(number);
          }
          layer.spec.numbers[param.ours] = numbers;
        }
        break;
      }
      case Param::kIgnored:
        if (param.keyword == "axis" && LiteralText(value) != "-1") {
          return Status::InvalidArgument(what + "=" + LiteralText(value) +
                                         " is not supported; cloudbook normalises the last "
                                         "axis (the channels): remove the argument");
        }
        break;
    }
  }
  if (rule.type == "dropout") {
    const double rate = layer.spec.numbers["rate"][0].value;
    if (rate < 0 || rate >= 1) {
      return Status::InvalidArgument("Dropout rate must be in [0, 1); got " + std::to_string(rate));
    }
  }
  if (rule.type == "embedding") layer.input_dtype = "int64";
  return layer;
}

}  // namespace cloudbook::keras_import
