// Parser for the Python subset (python_syntax.h) over TokenizePython's tokens. A statement
// it cannot read becomes a kUnparsed statement carrying the reason, so code that does not
// matter (plotting, evaluation) never stops an import; the interpreter decides whether a
// kUnparsed statement is an error (inside the SKYNNET block it is). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "maker/keras_import/python_syntax.h"
#include "maker/keras_import/python_tokenizer.h"
#include "shared/status.h"

namespace cloudbook::keras_import {

// `lines` (the source split at '\n') gives statements and expressions their source text.
Result<Block> ParsePython(const std::vector<Token>& tokens, const std::vector<std::string>& lines,
                          const std::string& source_name);

// One expression, for tests: "a.b(1, x=2)".
Result<ExprPtr> ParsePythonExpression(const std::string& text);

// The source split at '\n' (a trailing '\r' removed from each line).
std::vector<std::string> SplitLines(const std::string& text);

}  // namespace cloudbook::keras_import
