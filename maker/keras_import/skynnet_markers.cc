#include "maker/keras_import/skynnet_markers.h"

#include <cctype>

#include "maker/keras_import/tagged_names.h"
#include "shared/spelling.h"
#include "shared/text.h"

namespace cloudbook::keras_import {
namespace {

std::string Trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

// The marker text after '#', spaces removed: "SKYNNET:BEGIN_MULTICLASS_ACC_LOSS".
std::string MarkerBody(const std::string& comment) { return Trim(comment.substr(1)); }

}  // namespace

Result<SkynnetBlock> FindSkynnetBlock(const std::vector<Token>& tokens,
                                      const std::string& source_name) {
  SkynnetBlock block;
  auto error = [&](int line, const std::string& what) {
    return Status::InvalidArgument(source_name + ":" + std::to_string(line) + ": " + what);
  };
  for (const Token& token : tokens) {
    if (token.kind != TokenKind::kComment) continue;
    const std::string body = MarkerBody(token.text);
    const std::string upper = Upper(body);
    if (upper.rfind("SKYNNET:", 0) != 0) continue;
    if (upper.rfind("SKYNNET:END", 0) == 0) {
      if (block.begin_line == 0) {
        return error(token.line, "#SKYNNET:END without a #SKYNNET:BEGIN_<TYPE> before it");
      }
      if (block.end_line != 0) {
        return error(token.line, "a second #SKYNNET:END (the block ended at line " +
                                     std::to_string(block.end_line) + ")");
      }
      block.end_line = token.line;
      continue;
    }
    if (upper.rfind("SKYNNET:BEGIN", 0) != 0) {
      return error(token.line, "unknown SkyNNet marker '" + token.text +
                                   "'; valid: #SKYNNET:BEGIN_<TYPE>[_ACC|_LOSS|_ACC_LOSS], "
                                   "#SKYNNET:END");
    }
    if (block.begin_line != 0) {
      return error(token.line,
                   "a second #SKYNNET:BEGIN (the first is at line " +
                       std::to_string(block.begin_line) +
                       "): cloudbook imports one network per program; put each block in a "
                       "program of its own");
    }
    if (body.rfind("SKYNNET:BEGIN", 0) != 0 || body.find(' ') != std::string::npos) {
      return error(token.line,
                   "write the marker in capitals without spaces, like "
                   "#SKYNNET:BEGIN_MULTICLASS_ACC_LOSS; got '" +
                       token.text + "'");
    }
    std::string rest = body.substr(std::string("SKYNNET:BEGIN").size());
    if (rest.empty() || rest[0] != '_') {
      return error(token.line,
                   "the marker needs the problem type: #SKYNNET:BEGIN_REGRESSION, "
                   "#SKYNNET:BEGIN_MULTICLASS or #SKYNNET:BEGIN_BINARYCLASS (then optionally "
                   "_ACC, _LOSS or _ACC_LOSS)");
    }
    rest = rest.substr(1);
    const std::vector<std::string> types = {"REGRESSION", "MULTICLASS", "BINARYCLASS"};
    std::string type;
    for (const std::string& candidate : types) {
      if (rest.rfind(candidate, 0) == 0) type = candidate;
    }
    if (type.empty()) {
      const std::string word = rest.substr(0, rest.find('_'));
      return error(token.line, "unknown problem type '" + word +
                                   "' in the marker; valid: REGRESSION, MULTICLASS, "
                                   "BINARYCLASS" +
                                   DidYouMean(word, types));
    }
    const std::string suffix = rest.substr(type.size());
    const std::vector<std::string> suffixes = {"", "_ACC", "_LOSS", "_ACC_LOSS"};
    bool known = false;
    for (const std::string& candidate : suffixes) known = known || suffix == candidate;
    if (!known) {
      return error(token.line, "unknown metrics suffix '" + suffix +
                                   "' in the marker; valid: _ACC, _LOSS, _ACC_LOSS or none" +
                                   DidYouMean(suffix, {"_ACC", "_LOSS", "_ACC_LOSS"}));
    }
    block.marker = token.text;
    block.begin_line = token.line;
    block.metrics_suffix = suffix.empty() ? "" : suffix.substr(1);
    block.problem = type == "REGRESSION"   ? ProblemType::kRegression
                    : type == "MULTICLASS" ? ProblemType::kMulticlass
                                           : ProblemType::kBinary;
  }
  if (block.begin_line == 0) {
    return Status::InvalidArgument(
        source_name +
        ": no #SKYNNET:BEGIN_<TYPE> marker; put '#SKYNNET:BEGIN_MULTICLASS' (or _REGRESSION, "
        "_BINARYCLASS) before the network and '#SKYNNET:END' after its predict (manual, "
        "section 2.1)");
  }
  if (block.end_line == 0) {
    return error(block.begin_line,
                 "the SKYNNET block is never closed: put '#SKYNNET:END' after the predict");
  }
  return block;
}

}  // namespace cloudbook::keras_import
