#include "maker/keras_import/python_token_cursor.h"

#include <algorithm>

namespace cloudbook::keras_import {
namespace {

// A line piece without its trailing comment ('#' outside quotes).
std::string WithoutComment(const std::string& piece) {
  char quote = 0;
  for (size_t i = 0; i < piece.size(); ++i) {
    const char c = piece[i];
    if (quote != 0) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#') {
      return piece.substr(0, i);
    }
  }
  return piece;
}

}  // namespace

TokenCursor::TokenCursor(const std::vector<Token>& tokens, const std::vector<std::string>& lines)
    : lines_(lines) {
  for (const Token& token : tokens) {
    if (token.kind != TokenKind::kComment) tokens_.push_back(token);
  }
  if (tokens_.empty() || tokens_.back().kind != TokenKind::kEnd) {
    tokens_.push_back({TokenKind::kEnd, "", 0, 0, 0, 0});
  }
}

std::string TokenCursor::TooDeep() const {
  return "nested more than " + std::to_string(kMaxNesting) +
         " levels deep (brackets, operators, calls or indented blocks); the importer reads "
         "programs nested at most that deep";
}

const Token& TokenCursor::Peek(size_t ahead) const {
  return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
}
bool TokenCursor::AtKind(TokenKind kind) const { return Peek().kind == kind; }
bool TokenCursor::AtOp(const std::string& op) const {
  return AtKind(TokenKind::kOp) && Peek().text == op;
}
bool TokenCursor::AtName(const std::string& name) const {
  return AtKind(TokenKind::kName) && Peek().text == name;
}
const Token& TokenCursor::Next() {
  const Token& token = Peek();
  if (pos_ < tokens_.size() - 1) ++pos_;
  return token;
}
void TokenCursor::Fail(const std::string& what) const { throw SyntaxProblem{Peek().line, what}; }
void TokenCursor::ExpectOp(const std::string& op) {
  if (!AtOp(op)) {
    Fail("expected '" + op + "', got " +
         (Peek().text.empty() ? "the end of the line" : "'" + Peek().text + "'"));
  }
  Next();
}
std::string TokenCursor::ExpectName() {
  if (!AtKind(TokenKind::kName)) Fail("expected a name, got '" + Peek().text + "'");
  return Next().text;
}

std::string TokenCursor::LineText(int line) const {
  if (line < 1 || line > static_cast<int>(lines_.size())) return "";
  std::string text = lines_[line - 1];
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  text = text.substr(first);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
  return text;
}

// The source between two tokens, whitespace runs folded, for messages.
std::string TokenCursor::SourceBetween(const Token& first, const Token& last) const {
  if (first.line < 1 || last.end_line < first.line ||
      last.end_line > static_cast<int>(lines_.size())) {
    return first.text.substr(0, kMaxSourceChars);
  }
  // Read a little more than the cap (whitespace folds away), never the whole of a long span.
  const size_t read_at_most = 2 * kMaxSourceChars;
  std::string text;
  for (int line = first.line; line <= last.end_line && text.size() <= read_at_most; ++line) {
    const std::string& whole = lines_[line - 1];
    const size_t begin = line == first.line ? static_cast<size_t>(first.column - 1) : 0;
    const size_t end =
        line == last.end_line ? static_cast<size_t>(last.end_column - 1) : whole.size();
    if (begin < whole.size() && end > begin) {
      text += WithoutComment(whole.substr(begin, std::min(end - begin, read_at_most))) + " ";
    }
  }
  std::string folded;
  for (char c : text) {
    if ((c == ' ' || c == '\t') && (folded.empty() || folded.back() == ' ')) continue;
    folded += (c == '\t' ? ' ' : c);
  }
  while (!folded.empty() && folded.back() == ' ') folded.pop_back();
  if (folded.size() > kMaxSourceChars) folded = folded.substr(0, kMaxSourceChars) + "...";
  return folded;
}

std::string TokenCursor::SourceFrom(size_t first_token) const {
  return SourceBetween(tokens_[first_token], Previous());
}

}  // namespace cloudbook::keras_import
