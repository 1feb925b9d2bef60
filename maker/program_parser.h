// Parses the user's program (YAML, see docs/program-format.md) into a Program. Every
// malformed input gets one InvalidArgument Status naming the file, the field (with its line
// where known) and what would be valid. Checks that need no data or deconstruction happen
// here: unknown layers and keys, unknown or misspelt variables, wrong types, missing fields.
#pragma once

#include <string>

#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook {

Result<Program> ParseProgramFile(const std::string& path);
// `source_name` appears in messages in place of a file path.
Result<Program> ParseProgramText(const std::string& text, const std::string& source_name);

}  // namespace cloudbook
