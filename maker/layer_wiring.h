// The two words every layer may take to form the program's small DAG: `name: <word>` and
// `inputs: [<name>, ...]` (docs/program-format.md). Reads them from a layer's parameters;
// whether the names refer to earlier layers is checked by the plan (shared/model_plan.h).
// Stateless; errors are "<file>:<line>: <path>: <what>" from the FieldReader.
#pragma once

#include "maker/program_fields.h"
#include "shared/program.h"

namespace cloudbook::program_parsing {

// The parameter names this file reads, to accept them on every layer.
inline constexpr const char* kLayerNameKey = "name";
inline constexpr const char* kLayerInputsKey = "inputs";

// Fills layer->name and layer->inputs from `entries` when present.
Status ParseLayerWiring(const FieldReader& reader, const Entries& entries, LayerSpec* layer);

}  // namespace cloudbook::program_parsing
