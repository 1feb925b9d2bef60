// The tagged variables of a program (docs/program-format.md): _NEURON_<k>, _FILTERS_<k>,
// _EMBEDDING_<k>, _CELL_<k> (k = 1, 2, ...) and _EPOCHS. Their families, reading k, and why
// a name is not one of them, for the program parser, the deconstruction and the Keras
// importer alike. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cloudbook {

constexpr char kEpochsVariable[] = "_EPOCHS";
constexpr char kNeuronFamily[] = "_NEURON_";

// "_NEURON_", "_FILTERS_", "_EMBEDDING_", "_CELL_".
const std::vector<std::string>& TaggedFamilies();

// k of a well-formed `family`<k> name (k >= 1, no leading zeros, at most 9 digits), or 0.
int64_t TaggedIndex(const std::string& name, const std::string& family);

// _EPOCHS or a well-formed name of one of the families.
bool IsTaggedVariable(const std::string& name);

// Why `name` is not a tagged variable name, with the canonical name meant where one is close
// ("unknown variable name '_FILTER_1'; tagged variables are ... (did you mean _FILTERS_1?)").
std::string TaggedVariableProblem(const std::string& name);

}  // namespace cloudbook
