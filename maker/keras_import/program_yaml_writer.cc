#include "maker/keras_import/program_yaml_writer.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace cloudbook::keras_import {
namespace {

std::string Number(const NumberOrVar& number) {
  return number.is_var() ? number.var : FormatYamlNumber(number.value);
}

std::string Layer(const LayerSpec& layer) {
  static const std::vector<std::string> number_order = {
      "units",      "filters",   "kernel",  "stride",      "pool",           "dilation",
      "shape",      "heads",     "key_dim", "value_dim",   "ff_dim",         "maxlen",
      "vocab_size", "embed_dim", "size",    "num_patches", "projection_dim", "rate",
      "dropout",    "momentum",  "epsilon", "input_dim",   "output_dim"};
  static const std::vector<std::string> word_order = {"activation", "padding", "return_sequences",
                                                      "use_bias"};
  std::vector<std::string> parts;
  for (const std::string& key : number_order) {
    const auto found = layer.numbers.find(key);
    if (found == layer.numbers.end() || found->second.empty()) continue;
    if (found->second.size() == 1 && key != "shape") {
      parts.push_back(key + ": " + Number(found->second[0]));
      continue;
    }
    std::string list;
    for (const NumberOrVar& number : found->second) {
      list += (list.empty() ? "" : ", ") + Number(number);
    }
    parts.push_back(key + ": [" + list + "]");
  }
  for (const std::string& key : word_order) {
    const auto found = layer.words.find(key);
    if (found != layer.words.end()) parts.push_back(key + ": " + found->second);
  }
  // The small DAG (docs/program-format.md): the layer's name and the layers it reads.
  const auto name = layer.words.find("name");
  if (name != layer.words.end()) parts.push_back("name: " + name->second);
  const auto inputs = layer.words.find("inputs");
  if (inputs != layer.words.end()) parts.push_back("inputs: [" + inputs->second + "]");
  if (parts.empty()) return layer.type;
  std::string text = layer.type + ": {";
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + parts[i];
  return text + "}";
}

}  // namespace

std::string FormatYamlNumber(double value) {
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  std::string text = buffer;
  // "1e+02" reads as a string in YAML 1.2 core; write plain digits for whole numbers.
  if (text.find('e') != std::string::npos &&
      value == static_cast<double>(static_cast<long long>(value)) && value < 1e15 &&
      value > -1e15) {
    text = std::to_string(static_cast<long long>(value));
  }
  return text;
}

std::string WriteProgramYaml(const Program& program, const std::string& header,
                             const std::string& data_section) {
  std::ostringstream out;
  std::istringstream lines(header);
  for (std::string line; std::getline(lines, line);) out << "# " << line << "\n";
  out << "name: " << program.name << "\n";
  out << "problem: " << ProblemTypeName(program.problem) << "\n";
  if (!program.metrics.empty()) {
    out << "metrics: [";
    for (size_t i = 0; i < program.metrics.size(); ++i)
      out << (i ? ", " : "") << program.metrics[i];
    out << "]\n";
  }
  if (program.seed != 42) out << "seed: " << program.seed << "\n";
  out << data_section;
  out << "vars:\n";
  for (const auto& [name, value] : program.vars) out << "  " << name << ": " << value << "\n";
  out << "model:\n";
  out << "  input: [";
  for (size_t i = 0; i < program.model.input_shape.size(); ++i) {
    out << (i ? ", " : "") << program.model.input_shape[i];
  }
  out << "]\n";
  if (program.model.input_dtype != "float")
    out << "  input_dtype: " << program.model.input_dtype << "\n";
  out << "  layers:\n";
  for (const LayerSpec& layer : program.model.layers) out << "    - " << Layer(layer) << "\n";
  out << "train:\n";
  const TrainSpec& train = program.train;
  out << "  optimizer: {" << train.optimizer << ": {lr: " << FormatYamlNumber(train.learning_rate);
  if (train.optimizer == "sgd" && train.momentum != 0) {
    out << ", momentum: " << FormatYamlNumber(train.momentum);
  }
  out << "}}\n";
  out << "  loss: " << train.loss << "\n";
  out << "  batch_size: " << train.batch_size << "\n";
  out << "  epochs: " << Number(train.epochs) << "\n";
  return out.str();
}

}  // namespace cloudbook::keras_import
