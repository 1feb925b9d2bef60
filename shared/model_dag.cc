#include "shared/model_dag.h"

#include <map>
#include <sstream>

namespace cloudbook {
namespace {

// How many inputs a layer type takes: add at least 2; attention a query, a value and
// optionally a key; every other layer exactly one.
struct InputCount {
  size_t min, max;
};

InputCount InputsOf(const std::string& type) {
  if (type == "add") return {2, kMaxDagInputs};
  if (type == "multihead_attention") return {1, 3};
  return {1, 1};
}

std::string Plural(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace

Status LayerError(const std::string& source, size_t index, const LayerSpec& layer,
                  const std::string& what) {
  std::ostringstream out;
  out << source;
  if (layer.line > 0) out << ":" << layer.line;
  out << ": model.layers[" << index << "] (" << layer.type;
  if (!layer.name.empty()) out << " '" << layer.name << "'";
  out << "): " << what;
  return Status::InvalidArgument(out.str());
}

bool IsPlainList(const std::vector<std::vector<int>>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].size() != 1 || inputs[i][0] != static_cast<int>(i) - 1) return false;
  }
  return true;
}

Result<std::vector<std::vector<int>>> ResolveLayerInputs(const ModelSpec& model,
                                                         const std::string& source) {
  const auto& layers = model.layers;
  std::map<std::string, size_t> first_index;  // every name, to tell forward references apart
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!layers[i].name.empty()) first_index.emplace(layers[i].name, i);
  }
  std::vector<std::vector<int>> inputs(layers.size());
  std::vector<bool> read(layers.size(), false);
  std::map<std::string, size_t> named;  // names of the layers above the current one
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& layer = layers[i];
    auto fail = [&](const std::string& what) { return LayerError(source, i, layer, what); };
    const int previous = static_cast<int>(i) - 1;  // -1 = the model input for the first layer
    if (layer.inputs.empty()) {
      inputs[i] = {previous};
    } else {
      for (const std::string& word : layer.inputs) {
        if (word == kDagModelInput) {
          inputs[i].push_back(kDagModelInputIndex);
        } else if (word == kDagPrevious) {
          inputs[i].push_back(previous);
        } else if (auto it = named.find(word); it != named.end()) {
          inputs[i].push_back(static_cast<int>(it->second));
        } else if (auto later = first_index.find(word); later != first_index.end()) {
          return fail("inputs: '" + word + "' is the name of a later layer (model.layers[" +
                      std::to_string(later->second) +
                      "]); a layer reads only the model input and layers above it");
        } else {
          return fail("inputs: no layer above is named '" + word +
                      "' (write a layer's `name:`, `input` for the model input or `previous` "
                      "for the layer just above)");
        }
      }
    }
    const InputCount count = InputsOf(layer.type);
    if (inputs[i].size() < count.min || inputs[i].size() > count.max) {
      const std::string wanted =
          count.min == count.max ? Plural(count.min, "input")
          : count.max == kMaxDagInputs
              ? "at least " + Plural(count.min, "input")
              : std::to_string(count.min) + " to " + Plural(count.max, "input");
      return fail(layer.type + " takes " + wanted + ", got " + Plural(inputs[i].size(), "input") +
                  (layer.inputs.empty() ? " (give them as inputs: [a, b])" : ""));
    }
    for (int source_index : inputs[i]) {
      if (source_index >= 0) read[source_index] = true;
    }
    if (!layer.name.empty()) {
      if (auto it = named.find(layer.name); it != named.end()) {
        return fail("name '" + layer.name + "' is already the name of model.layers[" +
                    std::to_string(it->second) + "]" +
                    (layers[it->second].line > 0
                         ? " (line " + std::to_string(layers[it->second].line) + ")"
                         : std::string()) +
                    "; names must be unique");
      }
      named.emplace(layer.name, i);
    }
  }
  for (size_t i = 0; i + 1 < layers.size(); ++i) {
    if (!read[i]) {
      return LayerError(source, i, layers[i],
                        "no later layer reads its output (the model's output is the last "
                        "layer's); remove it or list it in a later layer's inputs");
    }
  }
  return inputs;
}

}  // namespace cloudbook
