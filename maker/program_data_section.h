// The program's `data` section: the train and test splits and their array sources (idx, csv,
// tensor files, or an autoencoder's same_as_x), the validation split and sample limits.
// Pure function; errors are FieldReader's InvalidArgument messages naming file, line and key.
#pragma once

#include "maker/program_fields.h"
#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook::program_parsing {

Status ParseDataSection(const FieldReader& reader, const Field& field, ProblemType problem,
                        DataSpec* data);

}  // namespace cloudbook::program_parsing
