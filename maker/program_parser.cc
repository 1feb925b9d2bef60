#include "maker/program_parser.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "maker/program_data_section.h"
#include "maker/program_fields.h"
#include "maker/program_model_section.h"
#include "maker/program_train_section.h"
#include "maker/tagged_variables.h"
#include "shared/text.h"

namespace cloudbook {
namespace {

using program_parsing::Contains;
using program_parsing::Element;
using program_parsing::Entries;
using program_parsing::Field;
using program_parsing::FieldReader;
using program_parsing::Find;
using program_parsing::KindOf;

const std::vector<std::string>& TopKeys() {
  static const auto* keys = new std::vector<std::string>{"name", "problem", "metrics", "seed",
                                                         "data", "vars",    "model",   "train"};
  return *keys;
}

// Reads the document and its top-level keys (name, problem, metrics, seed, vars) and hands
// data, model and train to their sections; then checks the output layer against the vars.
class Parser {
 public:
  explicit Parser(std::string source) : reader_(std::move(source)) {}
  Result<Program> Parse(const std::string& text);

 private:
  Status ParseHeader(const Entries& top, Program* program) const;
  Status ParseVars(const Field& field);
  Status CheckOutputLayer(const Program& program, const Field& model_field) const;

  FieldReader reader_;  // holds the variables once ParseVars has read them
};

Result<Program> Parser::Parse(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    // yaml-cpp marks are 0-based.
    return Status::InvalidArgument(reader_.source() + ":" + std::to_string(e.mark.line + 1) +
                                   ": YAML syntax error: " + e.msg + " (column " +
                                   std::to_string(e.mark.column + 1) + ")");
  }
  const Field doc{root, "", 0};
  if (!root.IsMap()) {
    return reader_.Error(
        doc, "a program is a YAML mapping with keys " + Join(TopKeys()) + "; got " + KindOf(root));
  }
  CB_ASSIGN_OR_RETURN(const Entries top, reader_.Mapping(doc, &TopKeys(), "top-level key"));
  for (const char* key : {"name", "problem", "data", "vars", "model", "train"}) {
    if (Find(top, key) == nullptr) return reader_.Missing(doc, key, "top-level key");
  }

  Program program;
  program.source_path = reader_.source();
  CB_RETURN_IF_ERROR(ParseHeader(top, &program));
  // Variables first: the model and train refer to them.
  CB_RETURN_IF_ERROR(ParseVars(*Find(top, "vars")));
  program.vars = reader_.vars();
  CB_RETURN_IF_ERROR(program_parsing::ParseDataSection(reader_, *Find(top, "data"), program.problem,
                                                       &program.data));
  CB_RETURN_IF_ERROR(
      program_parsing::ParseModelSection(reader_, *Find(top, "model"), &program.model));
  CB_RETURN_IF_ERROR(program_parsing::ParseTrainSection(reader_, *Find(top, "train"),
                                                        program.problem, &program.train));
  CB_RETURN_IF_ERROR(CheckOutputLayer(program, *Find(top, "model")));
  return program;
}

Status Parser::ParseHeader(const Entries& top, Program* program) const {
  const Field& name_field = *Find(top, "name");
  CB_ASSIGN_OR_RETURN(program->name, reader_.Text(name_field, "a name"));
  const bool safe_chars =
      !program->name.empty() && std::all_of(program->name.begin(), program->name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
      });
  // The name becomes a folder and file name, hence no "." or "..".
  if (!safe_chars || program->name == "." || program->name == "..") {
    return reader_.Error(name_field,
                         "'" + program->name + "' is not a valid name; use letters, digits, _ . -");
  }

  CB_ASSIGN_OR_RETURN(const std::string problem,
                      reader_.Word(*Find(top, "problem"), {"multiclass", "binary", "regression"}));
  program->problem = problem == "binary"       ? ProblemType::kBinary
                     : problem == "regression" ? ProblemType::kRegression
                                               : ProblemType::kMulticlass;

  if (const Field* metrics = Find(top, "metrics")) {
    if (!metrics->node.IsSequence() || metrics->node.size() == 0) {
      return reader_.Error(*metrics,
                           std::string("expected a non-empty list like [accuracy, loss], got ") +
                               KindOf(metrics->node));
    }
    for (size_t i = 0; i < metrics->node.size(); ++i) {
      const Field item = Element(*metrics, i);
      CB_ASSIGN_OR_RETURN(const std::string metric,
                          reader_.Word(item, {"accuracy", "loss", "mse", "mae"}));
      if (Contains(program->metrics, metric)) {
        return reader_.Error(item, "'" + metric + "' is listed twice");
      }
      program->metrics.push_back(metric);
    }
  } else if (program->problem == ProblemType::kRegression) {
    program->metrics = {"mse", "mae"};
  } else {
    program->metrics = {"accuracy", "loss"};
  }

  if (const Field* seed = Find(top, "seed")) {
    CB_ASSIGN_OR_RETURN(const int64_t value, reader_.Int(*seed, 0));
    program->seed = static_cast<uint64_t>(value);
  }
  return Status::Ok();
}

Status Parser::ParseVars(const Field& field) {
  CB_ASSIGN_OR_RETURN(const Entries entries, reader_.Mapping(field, nullptr, "variable"));
  bool has_neuron = false;
  for (const auto& [name, value_field] : entries) {
    if (!IsTaggedVariable(name)) {
      return reader_.Error(value_field, TaggedVariableProblem(name));
    }
    CB_ASSIGN_OR_RETURN(const int64_t value, reader_.Int(value_field, 1));
    reader_.DefineVar(name, value, value_field);
    has_neuron = has_neuron || TaggedIndex(name, kNeuronFamily) > 0;
  }
  if (!has_neuron) {
    return reader_.Error(
        field,
        "at least one _NEURON_<k> variable is required: the one with the highest k is "
        "the output layer's width (the number of classes, or output columns)");
  }
  return Status::Ok();
}

// The highest _NEURON_ variable is, by the method's convention, the output width: the
// deconstruction rewrites it per subnet, so the last layer must use exactly that variable.
Status Parser::CheckOutputLayer(const Program& program, const Field& model_field) const {
  std::string output_var;
  int64_t highest = 0;
  for (const auto& [name, value] : reader_.vars()) {
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
    return reader_.Error(at,
                         "the last layer must be a dense layer with units: " + output_var +
                             " (the _NEURON_ variable with the highest k is the output layer: the "
                             "number of classes, or of output columns)");
  }

  const int64_t width = reader_.vars().at(output_var);
  const Field& var_field = reader_.VarField(output_var);
  if (program.problem == ProblemType::kMulticlass && width < 2) {
    return reader_.Error(var_field, "a multiclass output needs the number of classes (>= 2), got " +
                                        std::to_string(width));
  }
  if (program.problem == ProblemType::kBinary && width != 2) {
    return reader_.Error(
        var_field,
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
