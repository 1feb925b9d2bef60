// The program's small DAG (docs/program-format.md): which earlier layers (or the model input)
// each layer reads, resolved from the layers' `name` and `inputs` words, in list order.
// Torch-free and stateless; errors are InvalidArgument "<file>:<line>: model.layers[i]
// (<type> '<name>'): <what>" naming the layer, as every plan error does.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook {

// The two words `inputs` gives a meaning of its own (never a layer's name).
inline constexpr const char* kDagModelInput = "input";
inline constexpr const char* kDagPrevious = "previous";
inline constexpr int kDagModelInputIndex = -1;
// The most inputs one layer may list (an add of many branches).
inline constexpr size_t kMaxDagInputs = 64;

// For each layer, the indices of the layers it reads in the order written
// (kDagModelInputIndex: the model input); a layer without `inputs` reads the one above it.
// Refuses unknown names, forward references, duplicate names, a wrong number of inputs for
// the type, and a layer whose output no later layer reads (only the last one is the output).
Result<std::vector<std::vector<int>>> ResolveLayerInputs(const ModelSpec& model,
                                                         const std::string& source);

// True when every layer reads the one above it (a plain list, with or without names).
bool IsPlainList(const std::vector<std::vector<int>>& inputs);

// "original/x.yaml:12: model.layers[3] (add 'res'): <what>".
Status LayerError(const std::string& source, size_t index, const LayerSpec& layer,
                  const std::string& what);

}  // namespace cloudbook
