#include "maker/program_parser.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "shared/spelling.h"
#include "shared/text.h"

namespace cloudbook {
namespace {

// A value in the document together with what a message needs to point at it.
struct Field {
  YAML::Node node;
  std::string path;  // "model.layers[1] (dense).units"; empty for the document itself
  int line = 0;      // 1-based; 0 when unknown
};

// A mapping's entries in document order (order matters: the first bad one is reported).
using Entries = std::vector<std::pair<std::string, Field>>;

const Field* Find(const Entries& entries, const std::string& key) {
  for (const auto& [name, field] : entries) {
    if (name == key) return &field;
  }
  return nullptr;
}

int LineOf(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

std::string JoinPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// The i-th element of a list; a null element has no useful mark, so it borrows the list's.
Field Element(const Field& list, size_t i) {
  Field element{list.node[i], list.path + "[" + std::to_string(i) + "]", 0};
  element.line = LineOf(element.node);
  if (element.line == 0 || element.node.IsNull()) element.line = list.line;
  return element;
}

bool Contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

const char* KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    default:
      return "nothing";
  }
}

// Plain decimal integers only ("128", "-1", "+3"); "2.5" and "1e3" are not integers.
bool ParseInt(const std::string& text, int64_t* out) {
  const char* begin = text.c_str();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  if (begin == end || *begin == '+') return false;
  const auto [stop, error] = std::from_chars(begin, end, *out);
  return error == std::errc() && stop == end;
}

// True for digit strings too long for int64_t, so the message says "too large", not
// "not an integer".
bool IsHugeInt(const std::string& text) {
  const size_t start = !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
  return text.size() > start &&
         std::all_of(text.begin() + static_cast<long>(start), text.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// Finite decimal numbers; locale-independent (from_chars), unlike strtod.
bool ParseReal(const std::string& text, double* out) {
  const char* begin = text.c_str();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  if (begin == end || *begin == '+') return false;
  const auto [stop, error] = std::from_chars(begin, end, *out);
  return error == std::errc() && stop == end && std::isfinite(*out);
}

std::string FormatNumber(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// ---- Tagged variables -------------------------------------------------------------------

constexpr char kEpochsVar[] = "_EPOCHS";
constexpr char kNeuronFamily[] = "_NEURON_";
constexpr char kVarForms[] =
    "_NEURON_<k>, _FILTERS_<k>, _EMBEDDING_<k>, _CELL_<k> (k = 1, 2, ...) and _EPOCHS";

const std::vector<std::string>& VarFamilies() {
  static const auto* families =
      new std::vector<std::string>{"_NEURON_", "_FILTERS_", "_EMBEDDING_", "_CELL_"};
  return *families;
}

// k of a well-formed `family`<k> name (k >= 1, no leading zeros), or 0.
int64_t TaggedIndex(const std::string& name, const std::string& family) {
  if (name.compare(0, family.size(), family) != 0) return 0;
  const std::string digits = name.substr(family.size());
  if (digits.empty() || digits.size() > 9 || digits[0] == '0') return 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
  }
  return std::stoll(digits);
}

bool IsTaggedVar(const std::string& name) {
  if (name == kEpochsVar) return true;
  for (const std::string& family : VarFamilies()) {
    if (TaggedIndex(name, family) > 0) return true;
  }
  return false;
}

// Why `name` is not a tagged variable name: compares against the canonical names with the
// same k, which catches _FILTER_1, _NEURONS_2, _EMBEDING_1, _EPOCHS_, _neuron_1, _NEURON_01.
std::string TaggedVarProblem(const std::string& name) {
  size_t digits_begin = name.size();
  while (digits_begin > 0 && std::isdigit(static_cast<unsigned char>(name[digits_begin - 1]))) {
    --digits_begin;
  }
  std::string digits = name.substr(digits_begin);
  const bool has_digits = !digits.empty();
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  std::vector<std::string> candidates{kEpochsVar};
  if (!digits.empty() && digits.size() <= 9) {
    for (const std::string& family : VarFamilies()) candidates.push_back(family + digits);
  }
  const std::string zero = has_digits && digits.empty() ? " (k counts from 1)" : "";
  return "unknown variable name '" + name + "'" + zero + "; tagged variables are " + kVarForms +
         DidYouMean(name, candidates);
}

// ---- Layer parameter rules ----------------------------------------------------------------

enum class ParamKind { kInt, kReal, kWord, kBool };
// How many numbers a parameter takes: one; one or [h, w]; a list of any length (shape).
enum class Arity { kOne, kOneOrTwo, kList };

struct ParamRule {
  std::string name;
  ParamKind kind;
  bool required;
  Arity arity;
  std::vector<double> default_numbers;  // empty: none
  std::string default_word;             // empty: none
  std::vector<std::string> words;       // kWord: the valid values
};

struct LayerRule {
  std::string type;
  std::vector<ParamRule> params;
};

ParamRule IntParam(const std::string& name, bool required, Arity arity = Arity::kOne,
                   std::vector<double> fallback = {}) {
  return {name, ParamKind::kInt, required, arity, std::move(fallback), "", {}};
}
ParamRule RealParam(const std::string& name, bool required, std::vector<double> fallback = {}) {
  return {name, ParamKind::kReal, required, Arity::kOne, std::move(fallback), "", {}};
}
ParamRule WordParam(const std::string& name, std::vector<std::string> valid,
                    const std::string& fallback) {
  return {name, ParamKind::kWord, false, Arity::kOne, {}, fallback, std::move(valid)};
}
ParamRule BoolParam(const std::string& name, const std::string& fallback) {
  return {name, ParamKind::kBool, false, Arity::kOne, {}, fallback, {}};
}

const std::vector<LayerRule>& LayerRules() {
  static const auto* rules = [] {
    const std::vector<std::string> activations{"relu",   "sigmoid", "tanh",       "softmax",
                                               "linear", "elu",     "leaky_relu", "gelu"};
    const std::vector<std::string> paddings{"valid", "same"};
    // Pool strides default to the pool size: ParseLayer fills them once the pool is known.
    const std::vector<ParamRule> pool{IntParam("pool", false, Arity::kOneOrTwo, {2}),
                                      IntParam("stride", false, Arity::kOneOrTwo),
                                      WordParam("padding", paddings, "valid")};
    const std::vector<ParamRule> recurrent{IntParam("units", true),
                                           BoolParam("return_sequences", "false")};
    return new std::vector<LayerRule>{
        {"dense", {IntParam("units", true), WordParam("activation", activations, "linear")}},
        {"conv2d",
         {IntParam("filters", true), IntParam("kernel", true, Arity::kOneOrTwo),
          IntParam("stride", false, Arity::kOneOrTwo, {1}), WordParam("padding", paddings, "valid"),
          WordParam("activation", activations, "linear")}},
        {"maxpool2d", pool},
        {"avgpool2d", pool},
        {"global_avgpool2d", {}},
        {"flatten", {}},
        {"reshape", {IntParam("shape", true, Arity::kList)}},
        {"dropout", {RealParam("rate", true)}},
        {"batchnorm", {RealParam("momentum", false, {0.99}), RealParam("epsilon", false, {1e-3})}},
        {"embedding", {IntParam("input_dim", true), IntParam("output_dim", true)}},
        {"gru", recurrent},
        {"lstm", recurrent},
    };
  }();
  return *rules;
}

std::vector<std::string> LayerTypes() {
  std::vector<std::string> types;
  for (const LayerRule& rule : LayerRules()) types.push_back(rule.type);
  return types;
}

// Why a real-valued layer parameter is out of range, or "" when it is fine.
std::string RealRangeProblem(const std::string& param, double value) {
  if (param == "rate" && !(value >= 0 && value < 1)) return "must be in [0, 1)";
  if (param == "momentum" && !(value >= 0 && value <= 1)) return "must be in [0, 1]";
  if (param == "epsilon" && !(value > 0)) return "must be > 0";
  return "";
}

// ---- The parser -----------------------------------------------------------------------------

const std::vector<std::string>& TopKeys() {
  static const auto* keys = new std::vector<std::string>{"name", "problem", "metrics", "seed",
                                                         "data", "vars",    "model",   "train"};
  return *keys;
}

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}
  Result<Program> Parse(const std::string& text);

 private:
  // Every message: "<source>:<line>: <path>: <what>" (line and path left out when unknown).
  Status Error(const Field& at, const std::string& what) const;
  Status Missing(const Field& parent, const std::string& key, const std::string& noun) const;

  // Checks `field` is a mapping whose keys are scalars, unique, and (when `valid` is given)
  // among `valid`; `noun` names a key in messages ("key", "parameter", "top-level key").
  Result<Entries> Mapping(const Field& field, const std::vector<std::string>* valid,
                          const std::string& noun) const;
  Result<std::string> Text(const Field& field, const std::string& expected) const;
  Result<std::string> Word(const Field& field, const std::vector<std::string>& valid) const;
  Result<bool> Bool(const Field& field) const;
  Result<int64_t> Int(const Field& field, int64_t min) const;
  Result<double> Real(const Field& field) const;
  // A literal or the name of a defined variable (layer parameters and epochs).
  Result<NumberOrVar> Number(const Field& field, bool integer) const;

  Status ParseHeader(const Entries& top, Program* program) const;
  Status ParseVars(const Field& field);
  Status ParseData(const Field& field, ProblemType problem, DataSpec* data) const;
  Result<DataSplit> ParseSplit(const Field& field, ProblemType problem) const;
  Result<ArraySource> ParseArraySource(const Field& field, bool target, ProblemType problem) const;
  Status ParseModel(const Field& field, ModelSpec* model) const;
  Result<LayerSpec> ParseLayer(const Field& item) const;
  Result<std::vector<NumberOrVar>> ParseLayerNumbers(const Field& field,
                                                     const ParamRule& rule) const;
  Status ParseTrain(const Field& field, ProblemType problem, TrainSpec* train) const;
  Status ParseOptimizer(const Field& field, TrainSpec* train) const;
  Status CheckOutputLayer(const Program& program, const Field& model_field) const;

  std::string source_;
  std::map<std::string, int64_t> vars_;  // known before the model and train are read
  std::map<std::string, Field> var_fields_;
};

Status Parser::Error(const Field& at, const std::string& what) const {
  std::string message = source_;
  if (at.line > 0) message += ":" + std::to_string(at.line);
  message += ": ";
  if (!at.path.empty()) message += at.path + ": ";
  return Status::InvalidArgument(message + what);
}

Status Parser::Missing(const Field& parent, const std::string& key, const std::string& noun) const {
  return Error(parent, "missing required " + noun + " '" + key + "'");
}

Result<Entries> Parser::Mapping(const Field& field, const std::vector<std::string>* valid,
                                const std::string& noun) const {
  if (!field.node.IsMap()) {
    std::string expected = "expected a mapping";
    if (valid != nullptr && !valid->empty()) expected += " with keys " + Join(*valid);
    return Error(field, expected + ", got " + KindOf(field.node));
  }
  Entries entries;
  for (const auto& entry : field.node) {
    Field at{field.node, field.path, LineOf(entry.first)};
    if (!entry.first.IsScalar()) {
      return Error(at,
                   std::string("a ") + noun + " must be a plain word, got " + KindOf(entry.first));
    }
    const std::string key = entry.first.Scalar();
    if (Find(entries, key) != nullptr) return Error(at, noun + " '" + key + "' appears twice");
    if (valid != nullptr && !Contains(*valid, key)) {
      const std::string listing =
          valid->empty() ? "; it takes none" : "; valid: " + Join(*valid) + DidYouMean(key, *valid);
      return Error(at, "unknown " + noun + " '" + key + "'" + listing);
    }
    entries.emplace_back(key, Field{entry.second, JoinPath(field.path, key), at.line});
  }
  return entries;
}

Result<std::string> Parser::Text(const Field& field, const std::string& expected) const {
  if (!field.node.IsScalar()) {
    return Error(field, "expected " + expected + ", got " + KindOf(field.node));
  }
  return field.node.Scalar();
}

Result<std::string> Parser::Word(const Field& field, const std::vector<std::string>& valid) const {
  CB_ASSIGN_OR_RETURN(const std::string word, Text(field, "one of " + Join(valid)));
  if (!Contains(valid, word)) {
    return Error(field,
                 "unknown value '" + word + "'; valid: " + Join(valid) + DidYouMean(word, valid));
  }
  return word;
}

Result<bool> Parser::Bool(const Field& field) const {
  CB_ASSIGN_OR_RETURN(const std::string text, Text(field, "true or false"));
  const std::string word = LowerCase(text);
  if (word == "true" || word == "yes" || word == "on") return true;
  if (word == "false" || word == "no" || word == "off") return false;
  return Error(field, "expected true or false, got '" + text + "'");
}

Result<int64_t> Parser::Int(const Field& field, int64_t min) const {
  CB_ASSIGN_OR_RETURN(const std::string text, Text(field, "an integer"));
  int64_t value = 0;
  double real = 0;
  if (!ParseInt(text, &value)) {
    if (!text.empty() && text[0] == '_') {
      return Error(
          field, "must be a literal integer (variables are not allowed here), got '" + text + "'");
    }
    if (IsHugeInt(text)) return Error(field, "'" + text + "' is too large");
    if (ParseReal(text, &real)) return Error(field, "must be an integer, got '" + text + "'");
    return Error(field, "expected an integer, got '" + text + "'");
  }
  if (value < min) {
    return Error(field, "must be an integer >= " + std::to_string(min) + ", got '" + text + "'");
  }
  return value;
}

Result<double> Parser::Real(const Field& field) const {
  CB_ASSIGN_OR_RETURN(const std::string text, Text(field, "a number"));
  double value = 0;
  if (!ParseReal(text, &value)) return Error(field, "expected a number, got '" + text + "'");
  return value;
}

Result<NumberOrVar> Parser::Number(const Field& field, bool integer) const {
  const std::string expected =
      std::string(integer ? "an integer" : "a number") + " or a tagged variable (e.g. _NEURON_1)";
  CB_ASSIGN_OR_RETURN(const std::string text, Text(field, expected));
  NumberOrVar number;
  if (!text.empty() && text[0] == '_') {
    const auto var = vars_.find(text);
    if (var == vars_.end()) {
      std::vector<std::string> defined;
      for (const auto& [name, value] : vars_) defined.push_back(name);
      // A well-formed name was simply not defined; only a misspelling gets a suggestion
      // (suggesting _NEURON_1 for an undefined _NEURON_7 would mislead).
      const std::string hint = IsTaggedVar(text) ? "" : DidYouMean(text, defined);
      return Error(field, "unknown variable '" + text +
                              "' (define it under vars); defined: " + Join(defined) + hint);
    }
    number.var = text;
    number.value = static_cast<double>(var->second);  // the unreduced value, for checks
    return number;
  }
  int64_t whole = 0;
  if (ParseInt(text, &whole)) {
    number.value = static_cast<double>(whole);
    return number;
  }
  if (IsHugeInt(text)) return Error(field, "'" + text + "' is too large");
  if (!ParseReal(text, &number.value)) {
    return Error(field, "expected " + expected + ", got '" + text + "'");
  }
  if (integer) return Error(field, "must be an integer, got '" + text + "'");
  return number;
}

// ---- Sections -------------------------------------------------------------------------------

Result<Program> Parser::Parse(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    // yaml-cpp marks are 0-based.
    return Status::InvalidArgument(source_ + ":" + std::to_string(e.mark.line + 1) +
                                   ": YAML syntax error: " + e.msg + " (column " +
                                   std::to_string(e.mark.column + 1) + ")");
  }
  const Field doc{root, "", 0};
  if (!root.IsMap()) {
    return Error(
        doc, "a program is a YAML mapping with keys " + Join(TopKeys()) + "; got " + KindOf(root));
  }
  CB_ASSIGN_OR_RETURN(const Entries top, Mapping(doc, &TopKeys(), "top-level key"));
  for (const char* key : {"name", "problem", "data", "vars", "model", "train"}) {
    if (Find(top, key) == nullptr) return Missing(doc, key, "top-level key");
  }

  Program program;
  program.source_path = source_;
  CB_RETURN_IF_ERROR(ParseHeader(top, &program));
  // Variables first: the model and train refer to them.
  CB_RETURN_IF_ERROR(ParseVars(*Find(top, "vars")));
  program.vars = vars_;
  CB_RETURN_IF_ERROR(ParseData(*Find(top, "data"), program.problem, &program.data));
  CB_RETURN_IF_ERROR(ParseModel(*Find(top, "model"), &program.model));
  CB_RETURN_IF_ERROR(ParseTrain(*Find(top, "train"), program.problem, &program.train));
  CB_RETURN_IF_ERROR(CheckOutputLayer(program, *Find(top, "model")));
  return program;
}

Status Parser::ParseHeader(const Entries& top, Program* program) const {
  const Field& name_field = *Find(top, "name");
  CB_ASSIGN_OR_RETURN(program->name, Text(name_field, "a name"));
  const bool safe_chars =
      !program->name.empty() && std::all_of(program->name.begin(), program->name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
      });
  // The name becomes a folder and file name, hence no "." or "..".
  if (!safe_chars || program->name == "." || program->name == "..") {
    return Error(name_field,
                 "'" + program->name + "' is not a valid name; use letters, digits, _ . -");
  }

  CB_ASSIGN_OR_RETURN(const std::string problem,
                      Word(*Find(top, "problem"), {"multiclass", "binary", "regression"}));
  program->problem = problem == "binary"       ? ProblemType::kBinary
                     : problem == "regression" ? ProblemType::kRegression
                                               : ProblemType::kMulticlass;

  if (const Field* metrics = Find(top, "metrics")) {
    if (!metrics->node.IsSequence() || metrics->node.size() == 0) {
      return Error(*metrics, std::string("expected a non-empty list like [accuracy, loss], got ") +
                                 KindOf(metrics->node));
    }
    for (size_t i = 0; i < metrics->node.size(); ++i) {
      const Field item = Element(*metrics, i);
      CB_ASSIGN_OR_RETURN(const std::string metric, Word(item, {"accuracy", "loss", "mse", "mae"}));
      if (Contains(program->metrics, metric)) {
        return Error(item, "'" + metric + "' is listed twice");
      }
      program->metrics.push_back(metric);
    }
  } else if (program->problem == ProblemType::kRegression) {
    program->metrics = {"mse", "mae"};
  } else {
    program->metrics = {"accuracy", "loss"};
  }

  if (const Field* seed = Find(top, "seed")) {
    CB_ASSIGN_OR_RETURN(const int64_t value, Int(*seed, 0));
    program->seed = static_cast<uint64_t>(value);
  }
  return Status::Ok();
}

Status Parser::ParseVars(const Field& field) {
  CB_ASSIGN_OR_RETURN(const Entries entries, Mapping(field, nullptr, "variable"));
  bool has_neuron = false;
  for (const auto& [name, value_field] : entries) {
    if (!IsTaggedVar(name)) {
      return Error(value_field, TaggedVarProblem(name));
    }
    CB_ASSIGN_OR_RETURN(const int64_t value, Int(value_field, 1));
    vars_[name] = value;
    var_fields_[name] = value_field;
    has_neuron = has_neuron || TaggedIndex(name, kNeuronFamily) > 0;
  }
  if (!has_neuron) {
    return Error(field,
                 "at least one _NEURON_<k> variable is required: the one with the highest k is "
                 "the output layer's width (the number of classes, or output columns)");
  }
  return Status::Ok();
}

Status Parser::ParseData(const Field& field, ProblemType problem, DataSpec* data) const {
  static const auto* keys = new std::vector<std::string>{"train", "test", "validation_split",
                                                         "train_limit", "test_limit"};
  CB_ASSIGN_OR_RETURN(const Entries entries, Mapping(field, keys, "key"));
  const Field* train = Find(entries, "train");
  if (train == nullptr) return Missing(field, "train", "key");
  CB_ASSIGN_OR_RETURN(data->train, ParseSplit(*train, problem));
  if (const Field* test = Find(entries, "test")) {
    CB_ASSIGN_OR_RETURN(data->test, ParseSplit(*test, problem));
  }
  if (const Field* split = Find(entries, "validation_split")) {
    CB_ASSIGN_OR_RETURN(data->validation_split, Real(*split));
    if (!(data->validation_split >= 0 && data->validation_split < 1)) {
      return Error(*split, "must be in [0, 1), got " + FormatNumber(data->validation_split));
    }
  }
  if (const Field* limit = Find(entries, "train_limit")) {
    CB_ASSIGN_OR_RETURN(data->train_limit, Int(*limit, 0));
  }
  if (const Field* limit = Find(entries, "test_limit")) {
    CB_ASSIGN_OR_RETURN(data->test_limit, Int(*limit, 0));
  }
  return Status::Ok();
}

Result<DataSplit> Parser::ParseSplit(const Field& field, ProblemType problem) const {
  static const auto* keys = new std::vector<std::string>{"x", "y"};
  CB_ASSIGN_OR_RETURN(const Entries entries, Mapping(field, keys, "key"));
  DataSplit split;
  const Field* x = Find(entries, "x");
  const Field* y = Find(entries, "y");
  if (x == nullptr) return Missing(field, "x", "key");
  if (y == nullptr) return Missing(field, "y", "key");
  CB_ASSIGN_OR_RETURN(split.x, ParseArraySource(*x, /*target=*/false, problem));
  CB_ASSIGN_OR_RETURN(split.y, ParseArraySource(*y, /*target=*/true, problem));
  return split;
}

Result<ArraySource> Parser::ParseArraySource(const Field& field, bool target,
                                             ProblemType problem) const {
  ArraySource source;
  // An autoencoder's target is its input: `y: same_as_x` or `y: {same_as: x}`.
  const bool same_as_x = target && ((field.node.IsScalar() && field.node.Scalar() == "same_as_x") ||
                                    (field.node.IsMap() && field.node["same_as"].IsDefined()));
  if (same_as_x) {
    if (field.node.IsMap()) {
      static const auto* keys = new std::vector<std::string>{"same_as"};
      CB_ASSIGN_OR_RETURN(const Entries entries, Mapping(field, keys, "key"));
      CB_RETURN_IF_ERROR(Word(*Find(entries, "same_as"), {"x"}).status());
    }
    if (problem != ProblemType::kRegression) {
      return Error(field, std::string("same_as_x (an autoencoder's target) needs problem: "
                                      "regression, not ") +
                              ProblemTypeName(problem));
    }
    source.format = "same_as_x";
    return source;
  }
  if (!field.node.IsMap()) {
    return Error(field, std::string("expected a mapping like {format: idx, path: ...}") +
                            (target ? " or same_as_x" : "") + ", got " + KindOf(field.node));
  }
  static const auto* keys =
      new std::vector<std::string>{"format", "path", "scale", "columns", "header", "delimiter"};
  CB_ASSIGN_OR_RETURN(const Entries entries, Mapping(field, keys, "key"));
  const Field* format = Find(entries, "format");
  const Field* path = Find(entries, "path");
  if (format == nullptr) return Missing(field, "format", "key");
  if (path == nullptr) return Missing(field, "path", "key");
  CB_ASSIGN_OR_RETURN(source.format, Word(*format, {"idx", "csv", "tensor"}));

  CB_ASSIGN_OR_RETURN(source.path, Text(*path, "a relative path"));
  const std::string& p = source.path;
  if (p.empty()) return Error(*path, "must not be empty");
  const bool drive = p.size() >= 2 && std::isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':';
  if (p[0] == '/' || p[0] == '\\' || drive) {
    return Error(*path, "'" + p + "' is absolute; paths are relative to the working_dir");
  }
  // Paths must stay inside the working_dir: no ".." component.
  std::string component;
  for (size_t i = 0; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/' || p[i] == '\\') {
      if (component == "..") {
        return Error(*path, "'" + p + "' leaves the working_dir (no '..' components allowed)");
      }
      component.clear();
    } else {
      component += p[i];
    }
  }

  if (const Field* scale = Find(entries, "scale")) {
    CB_ASSIGN_OR_RETURN(source.scale, Real(*scale));
    if (!(source.scale > 0)) {
      return Error(*scale, "must be > 0, got " + FormatNumber(source.scale));
    }
  }
  for (const char* csv_key : {"columns", "header", "delimiter"}) {
    const Field* csv_field = Find(entries, csv_key);
    if (csv_field != nullptr && source.format != "csv") {
      return Error(*csv_field, "only applies to format csv (this source is " + source.format + ")");
    }
  }
  if (const Field* columns = Find(entries, "columns")) {
    if (!columns->node.IsSequence() || columns->node.size() == 0) {
      return Error(*columns, std::string("expected a non-empty list of column names or 0-based "
                                         "indices, got ") +
                                 KindOf(columns->node));
    }
    for (size_t i = 0; i < columns->node.size(); ++i) {
      CB_ASSIGN_OR_RETURN(const std::string column,
                          Text(Element(*columns, i), "a column name or index"));
      if (column.empty()) return Error(Element(*columns, i), "must not be empty");
      source.columns.push_back(column);
    }
  }
  if (const Field* header = Find(entries, "header")) {
    CB_ASSIGN_OR_RETURN(source.header, Bool(*header));
  }
  if (const Field* delimiter = Find(entries, "delimiter")) {
    CB_ASSIGN_OR_RETURN(const std::string text, Text(*delimiter, "a single character"));
    if (text.size() != 1 || text[0] == '"' || text[0] == '\n' || text[0] == '\r') {
      return Error(*delimiter,
                   "expected a single character other than a quote or newline, got '" + text + "'");
    }
    source.delimiter = text[0];
  }
  return source;
}

Status Parser::ParseModel(const Field& field, ModelSpec* model) const {
  static const auto* keys = new std::vector<std::string>{"input", "input_dtype", "layers"};
  CB_ASSIGN_OR_RETURN(const Entries entries, Mapping(field, keys, "key"));
  const Field* input = Find(entries, "input");
  const Field* layers = Find(entries, "layers");
  if (input == nullptr) return Missing(field, "input", "key");
  if (layers == nullptr) return Missing(field, "layers", "key");

  // The input shape is never reduced, so it takes literals only.
  if (input->node.IsSequence()) {
    if (input->node.size() == 0) return Error(*input, "expected at least one dimension");
    for (size_t i = 0; i < input->node.size(); ++i) {
      CB_ASSIGN_OR_RETURN(const int64_t dim, Int(Element(*input, i), 1));
      model->input_shape.push_back(dim);
    }
  } else {
    CB_ASSIGN_OR_RETURN(const int64_t dim, Int(*input, 1));
    model->input_shape.push_back(dim);
  }
  if (const Field* dtype = Find(entries, "input_dtype")) {
    CB_ASSIGN_OR_RETURN(model->input_dtype, Word(*dtype, {"float", "int64"}));
  }

  if (!layers->node.IsSequence() || layers->node.size() == 0) {
    return Error(*layers, std::string("expected a non-empty list of layers, got ") +
                              (layers->node.IsSequence() ? "an empty list" : KindOf(layers->node)));
  }
  for (size_t i = 0; i < layers->node.size(); ++i) {
    CB_ASSIGN_OR_RETURN(LayerSpec layer, ParseLayer(Element(*layers, i)));
    model->layers.push_back(std::move(layer));
  }
  return Status::Ok();
}

Result<LayerSpec> Parser::ParseLayer(const Field& item) const {
  LayerSpec layer;
  layer.line = item.line;
  Field params{YAML::Node(), item.path, item.line};
  if (item.node.IsScalar()) {
    layer.type = item.node.Scalar();
  } else if (item.node.IsMap() && item.node.size() == 1) {
    const auto entry = *item.node.begin();
    if (!entry.first.IsScalar()) {
      return Error(item, std::string("a layer type must be a word, got ") + KindOf(entry.first));
    }
    layer.type = entry.first.Scalar();
    params.node = entry.second;
  } else if (item.node.IsMap()) {
    std::vector<std::string> keys;
    for (const auto& entry : item.node) {
      keys.push_back(entry.first.IsScalar() ? entry.first.Scalar() : KindOf(entry.first));
    }
    return Error(item,
                 "a layer is a single key, its type, holding its parameters, like "
                 "`- dense: {units: _NEURON_1, activation: relu}`; got keys " +
                     Join(keys) + " (indent the parameters under the type)");
  } else {
    return Error(item, std::string("expected a layer type (like flatten) or a mapping like "
                                   "`- dense: {units: _NEURON_1}`, got ") +
                           KindOf(item.node));
  }

  const auto& rules = LayerRules();
  const auto rule = std::find_if(rules.begin(), rules.end(),
                                 [&](const LayerRule& r) { return r.type == layer.type; });
  if (rule == rules.end()) {
    return Error(item, "unknown layer type '" + layer.type + "'; valid: " + Join(LayerTypes()) +
                           DidYouMean(layer.type, LayerTypes()));
  }
  params.path = item.path + " (" + layer.type + ")";
  std::vector<std::string> names;
  for (const ParamRule& param : rule->params) names.push_back(param.name);
  Entries entries;
  if (params.node.IsDefined() && !params.node.IsNull()) {  // `- flatten:` has no parameters
    CB_ASSIGN_OR_RETURN(entries, Mapping(params, &names, "parameter"));
  }

  for (const ParamRule& param : rule->params) {
    const Field* field = Find(entries, param.name);
    if (field == nullptr) {
      if (param.required) return Missing(params, param.name, "parameter");
      if (!param.default_word.empty()) layer.words[param.name] = param.default_word;
      for (double value : param.default_numbers) layer.numbers[param.name].push_back({value, ""});
      continue;
    }
    switch (param.kind) {
      case ParamKind::kWord: {
        CB_ASSIGN_OR_RETURN(layer.words[param.name], Word(*field, param.words));
        break;
      }
      case ParamKind::kBool: {
        CB_ASSIGN_OR_RETURN(const bool value, Bool(*field));
        layer.words[param.name] = value ? "true" : "false";
        break;
      }
      case ParamKind::kInt:
      case ParamKind::kReal: {
        CB_ASSIGN_OR_RETURN(layer.numbers[param.name], ParseLayerNumbers(*field, param));
        break;
      }
    }
  }
  if ((layer.type == "maxpool2d" || layer.type == "avgpool2d") && !layer.numbers.count("stride")) {
    layer.numbers["stride"] = layer.numbers["pool"];  // Keras: strides default to pool_size
  }
  return layer;
}

Result<std::vector<NumberOrVar>> Parser::ParseLayerNumbers(const Field& field,
                                                           const ParamRule& rule) const {
  const bool integer = rule.kind == ParamKind::kInt;
  std::vector<Field> items;
  if (field.node.IsSequence()) {
    const size_t n = field.node.size();
    if (rule.arity == Arity::kOne) {
      return Error(field, std::string("expected a single ") + (integer ? "integer" : "number") +
                              " or variable, got a list");
    }
    if (n == 0 || (rule.arity == Arity::kOneOrTwo && n > 2)) {
      return Error(field,
                   rule.arity == Arity::kOneOrTwo
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
    CB_ASSIGN_OR_RETURN(const NumberOrVar number, Number(item, integer));
    const std::string shown =
        number.is_var() ? number.var + " = " + FormatNumber(number.value) : item.node.Scalar();
    if (integer) {
      // reshape may infer one dimension, as Keras does.
      const bool inferred = rule.name == "shape" && !number.is_var() && number.value == -1;
      if (inferred && seen_minus_one) return Error(item, "-1 may appear only once in a shape");
      seen_minus_one = seen_minus_one || inferred;
      if (!inferred && number.value < 1) {
        return Error(item, std::string("must be >= 1") + (rule.name == "shape" ? " (or -1)" : "") +
                               ", got " + shown);
      }
    } else if (const std::string problem = RealRangeProblem(rule.name, number.value);
               !problem.empty()) {
      return Error(item, problem + ", got " + shown);
    }
    numbers.push_back(number);
  }
  return numbers;
}

Status Parser::ParseTrain(const Field& field, ProblemType problem, TrainSpec* train) const {
  static const auto* keys = new std::vector<std::string>{"optimizer", "loss",          "batch_size",
                                                         "epochs",    "epochs_policy", "threads"};
  CB_ASSIGN_OR_RETURN(const Entries entries, Mapping(field, keys, "key"));
  if (const Field* optimizer = Find(entries, "optimizer")) {
    CB_RETURN_IF_ERROR(ParseOptimizer(*optimizer, train));
  }

  const Field* loss = Find(entries, "loss");
  if (loss == nullptr) return Missing(field, "loss", "key");
  CB_ASSIGN_OR_RETURN(train->loss,
                      Word(*loss, {"sparse_categorical_crossentropy", "categorical_crossentropy",
                                   "binary_crossentropy", "mse", "mae"}));
  const bool regression_loss = train->loss == "mse" || train->loss == "mae";
  if (regression_loss != (problem == ProblemType::kRegression)) {
    return Error(*loss, "'" + train->loss + "' does not fit a " + ProblemTypeName(problem) +
                            " problem; use " +
                            (regression_loss ? "sparse_categorical_crossentropy (or another "
                                               "crossentropy) for classification"
                                             : "mse or mae for regression"));
  }

  if (const Field* batch = Find(entries, "batch_size")) {
    CB_ASSIGN_OR_RETURN(train->batch_size, Int(*batch, 1));
  }
  if (const Field* threads = Find(entries, "threads")) {
    CB_ASSIGN_OR_RETURN(const int64_t count, Int(*threads, 1));
    if (count > kMaxTrainingThreads) {
      return Error(*threads, "must be at most " + std::to_string(kMaxTrainingThreads) + ", got " +
                                 std::to_string(count));
    }
    train->threads = static_cast<int>(count);
  }

  const Field* epochs = Find(entries, "epochs");
  if (epochs == nullptr) return Missing(field, "epochs", "key");
  CB_ASSIGN_OR_RETURN(train->epochs, Number(*epochs, /*integer=*/true));
  if (train->epochs.value < 1) {
    return Error(*epochs, "must be >= 1, got " + FormatNumber(train->epochs.value));
  }

  if (const Field* policy = Find(entries, "epochs_policy")) {
    CB_ASSIGN_OR_RETURN(const std::string word, Word(*policy, {"table", "reduce", "keep"}));
    train->epochs_policy = word == "reduce" ? EpochsPolicy::kReduce
                           : word == "keep" ? EpochsPolicy::kKeep
                                            : EpochsPolicy::kTable;
  }
  return Status::Ok();
}

Status Parser::ParseOptimizer(const Field& field, TrainSpec* train) const {
  static const auto* names = new std::vector<std::string>{"adam", "sgd"};
  Field settings{YAML::Node(), field.path, field.line};
  if (field.node.IsScalar()) {
    CB_ASSIGN_OR_RETURN(train->optimizer, Word(field, *names));
  } else if (field.node.IsMap() && field.node.size() == 1) {
    CB_ASSIGN_OR_RETURN(const Entries entries, Mapping(field, names, "optimizer"));
    train->optimizer = entries[0].first;
    settings = entries[0].second;
  } else {
    return Error(field, std::string("expected adam, sgd, or a single-key mapping like "
                                    "{adam: {lr: 0.001}}, got ") +
                            (field.node.IsMap() ? "several keys" : KindOf(field.node)));
  }
  const bool sgd = train->optimizer == "sgd";
  train->learning_rate = sgd ? 0.01 : 0.001;
  train->momentum = 0.0;
  if (!settings.node.IsDefined() || settings.node.IsNull()) return Status::Ok();

  const std::vector<std::string> keys =
      sgd ? std::vector<std::string>{"lr", "momentum"} : std::vector<std::string>{"lr"};
  CB_ASSIGN_OR_RETURN(const Entries entries, Mapping(settings, &keys, "key"));
  if (const Field* lr = Find(entries, "lr")) {
    CB_ASSIGN_OR_RETURN(train->learning_rate, Real(*lr));
    if (!(train->learning_rate > 0)) {
      return Error(*lr, "must be > 0, got " + FormatNumber(train->learning_rate));
    }
  }
  if (const Field* momentum = Find(entries, "momentum")) {
    CB_ASSIGN_OR_RETURN(train->momentum, Real(*momentum));
    if (!(train->momentum >= 0 && train->momentum < 1)) {
      return Error(*momentum, "must be in [0, 1), got " + FormatNumber(train->momentum));
    }
  }
  return Status::Ok();
}

// The highest _NEURON_ variable is, by the method's convention, the output width: the
// deconstruction rewrites it per subnet, so the last layer must use exactly that variable.
Status Parser::CheckOutputLayer(const Program& program, const Field& model_field) const {
  std::string output_var;
  int64_t highest = 0;
  for (const auto& [name, value] : vars_) {
    const int64_t k = TaggedIndex(name, kNeuronFamily);
    if (k > highest) {
      highest = k;
      output_var = name;
    }
  }
  const LayerSpec& last = program.model.layers.back();
  const size_t last_index = program.model.layers.size() - 1;
  const Field at{model_field.node,
                 "model.layers[" + std::to_string(last_index) + "] (" + last.type + ")", last.line};
  const auto units = last.numbers.find("units");
  const bool fits = last.type == "dense" && units != last.numbers.end() &&
                    units->second.size() == 1 && units->second[0].var == output_var;
  if (!fits) {
    return Error(at, "the last layer must be a dense layer with units: " + output_var +
                         " (the _NEURON_ variable with the highest k is the output layer: the "
                         "number of classes, or of output columns)");
  }

  const int64_t width = vars_.at(output_var);
  const Field& var_field = var_fields_.at(output_var);
  if (program.problem == ProblemType::kMulticlass && width < 2) {
    return Error(var_field, "a multiclass output needs the number of classes (>= 2), got " +
                                std::to_string(width));
  }
  if (program.problem == ProblemType::kBinary && width != 2) {
    return Error(var_field,
                 "a binary problem's output layer has 2 units (softmax over 2 classes, sparse "
                 "labels 0/1), got " +
                     std::to_string(width));
  }
  return Status::Ok();
}

// Whatever yaml-cpp or the standard library throws becomes a Status: bad input never crashes.
Result<Program> ParseGuarded(const std::string& text, const std::string& source) {
  try {
    return Parser(source).Parse(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ": cannot read the program: " + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(source + ": parsing the program failed: " + e.what());
  }
}

}  // namespace

Result<Program> ParseProgramFile(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return Status::NotFound(path + ": no such program file");
  }
  if (std::filesystem::is_directory(path, error)) {
    return Status::InvalidArgument(path + ": is a folder, not a program file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open the program file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError(path + ": cannot read the program file");
  return ParseGuarded(text.str(), path);
}

Result<Program> ParseProgramText(const std::string& text, const std::string& source_name) {
  return ParseGuarded(text, source_name);
}

}  // namespace cloudbook
