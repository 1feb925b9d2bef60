// The program's `train` section: optimizer and its settings, loss (checked against the
// problem), batch size, threads, epochs (a number or _EPOCHS) and the epochs policy.
// Pure function; errors are FieldReader's InvalidArgument messages naming file, line and key.
#pragma once

#include "maker/program_fields.h"
#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook::program_parsing {

Status ParseTrainSection(const FieldReader& reader, const Field& field, ProblemType problem,
                         TrainSpec* train);

}  // namespace cloudbook::program_parsing
