// The data words of issue 17 in a program's `data` section (docs/program-format.md): array
// source options (`key` of npz, the `sequences` options) and the row and label words
// (`train_rows`, `test_rows`, `shuffle`, `train_subset`, `label_map`). Pure functions; errors
// are FieldReader's InvalidArgument messages naming file, line and key.
#pragma once

#include <string>
#include <vector>

#include "maker/program_fields.h"
#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook::program_parsing {

// Keys an array source may hold besides format, path, scale and the csv ones.
const std::vector<std::string>& ArraySourceWordKeys();
// Reads those keys of `entries` into `source` (whose format is already set).
Status ParseArraySourceWords(const FieldReader& reader, const Field& field, const Entries& entries,
                             ArraySource* source);

// Keys of the data section this file reads.
const std::vector<std::string>& DataWordKeys();
Status ParseDataWords(const FieldReader& reader, const Entries& entries, ProblemType problem,
                      DataSpec* data);

}  // namespace cloudbook::program_parsing
