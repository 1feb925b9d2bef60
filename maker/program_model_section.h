// The program's `model` section: the input shape and dtype and the list of layers, each
// checked against the layer table (layer_rules.h); parameters may name variables defined so
// far. Pure function; errors are FieldReader's InvalidArgument messages naming file, line, key.
#pragma once

#include "maker/program_fields.h"
#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook::program_parsing {

Status ParseModelSection(const FieldReader& reader, const Field& field, ModelSpec* model);

}  // namespace cloudbook::program_parsing
