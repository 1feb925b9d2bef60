// Writes a Program as the YAML program file of docs/program-format.md, in the layout of the
// examples in configs/ (flow-style mappings for data sources and layers). Every field the
// parser would default is written only when it differs from the default. Pure function.
#pragma once

#include <string>

#include "shared/program.h"

namespace cloudbook::keras_import {

// `header` goes first as comment lines (each line gets "# "); `data_section` is the `data:`
// section as imported_data.h writes it (the program's own data field is not written).
std::string WriteProgramYaml(const Program& program, const std::string& header,
                             const std::string& data_section);

// The shortest decimal text that reads back as `value` ("0.001", "255", "1e-07").
std::string FormatYamlNumber(double value);

}  // namespace cloudbook::keras_import
