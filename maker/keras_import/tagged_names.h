// The special names of SkyNNet programs: tagged widths (_NEURON_k, _FILTERS_k, _EMBEDDING_k,
// _CELL_k, _EPOCHS), data variables (_DATA_TRAIN_X, ...), and names that look like one of
// them but are not (misspelt). Also how the original sk_tool read a name, so a warning can
// say what it would have done. Pure functions.
#pragma once

#include <string>
#include <vector>

namespace cloudbook::keras_import {

enum class NameRole {
  kPlain,     // an ordinary variable
  kTagged,    // a well-formed tagged variable: _NEURON_3, _EPOCHS
  kData,      // _DATA_TRAIN_X, _DATA_TRAIN_Y, _DATA_VAL_X/_Y, _DATA_TEST_X/_Y
  kMisspelt,  // close to a tagged or data name, or a tagged name with a bad k
};

struct NameCheck {
  NameRole role = NameRole::kPlain;
  std::string suggestion;  // kMisspelt: the name meant ("_FILTERS_1", "_EMBEDDING_<k>")
  std::string why;         // kMisspelt: "k counts from 1", "no leading zeros", ...
  // What sk_tool made of the name: the tagged name it reduced ("_NEURON_1" for
  // "_NEURON_01"), or "" when it did not recognise it (and so never reduced it).
  std::string original_reading;
};

// Reading k of a tagged name: TaggedIndex in maker/tagged_variables.h.
NameCheck CheckName(const std::string& name);

}  // namespace cloudbook::keras_import
