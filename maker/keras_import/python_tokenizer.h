// Tokenizer for the Python subset of SkyNNet-style Keras programs (docs/keras-import.md).
// Produces Python's token stream: names, numbers, strings, operators, NEWLINE at the end of
// each logical line, INDENT / DEDENT from the indentation, and comments kept as tokens so
// that the #SKYNNET: markers and every line number survive. Pure function, no I/O.
#pragma once

#include <string>
#include <vector>

#include "shared/status.h"

namespace cloudbook::keras_import {

enum class TokenKind {
  kName,     // identifiers and keywords (def, import, if, ...)
  kNumber,   // 128, 0.001, 1e-3, 0x1F, 1_000
  kString,   // text holds the decoded contents; adjacent literals are separate tokens
  kOp,       // ( ) [ ] { } , : . ; = == + - * / // ** % @ < > <= >= != -> += ...
  kComment,  // text holds the whole comment, '#' included
  kNewline,  // end of a logical line
  kIndent,
  kDedent,
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  int line = 0;      // 1-based
  int column = 0;    // 1-based
  int end_line = 0;  // where the token ends (exclusive column), for source excerpts
  int end_column = 0;
};

// `source_name` prefixes messages ("<file>:<line>: ..."). Errors: unterminated strings or
// brackets, inconsistent dedents, characters Python does not allow.
Result<std::vector<Token>> TokenizePython(const std::string& text, const std::string& source_name);

}  // namespace cloudbook::keras_import
