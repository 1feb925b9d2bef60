#include "maker/keras_import/python_tokenizer.h"

#include <cctype>
#include <vector>

namespace cloudbook::keras_import {
namespace {

bool IsNameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;  // UTF-8 identifiers (accented names)
}
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

// Longest first, so that "**=" wins over "**" and "*".
const char* const kOperators[] = {"**=", "//=", ">>=", "<<=", "...", "->", "**", "//", "==", "!=",
                                  "<=",  ">=",  "<<",  ">>",  "+=",  "-=", "*=", "/=", "%=", "&=",
                                  "|=",  "^=",  "@=",  ":=",  "(",   ")",  "[",  "]",  "{",  "}",
                                  ",",   ":",   ".",   ";",   "=",   "+",  "-",  "*",  "/",  "%",
                                  "@",   "<",   ">",   "&",   "|",   "^",  "~"};

class Tokenizer {
 public:
  Tokenizer(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  Result<std::vector<Token>> Run() {
    indents_.push_back(0);
    while (pos_ < text_.size()) {
      if (at_line_start_ && depth_ == 0) {
        CB_RETURN_IF_ERROR(Indentation());
        continue;  // a blank or comment line leaves us at the start of the next line
      }
      const char c = text_[pos_];
      if (c == '\n') {
        Newline();
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\f' || c == '\r') {
        Advance(1);
        continue;
      }
      if (c == '#') {
        Comment();
        continue;
      }
      if (c == '\\' && pos_ + 1 < text_.size() &&
          (text_[pos_ + 1] == '\n' || text_[pos_ + 1] == '\r')) {
        Advance(1);
        if (text_[pos_] == '\r') Advance(1);
        if (pos_ < text_.size() && text_[pos_] == '\n') {
          ++pos_;
          ++line_;
          column_ = 1;
        }
        continue;
      }
      if (IsStringStart()) {
        CB_RETURN_IF_ERROR(String());
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c)) ||
          (c == '.' && pos_ + 1 < text_.size() &&
           std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])))) {
        Number();
        continue;
      }
      if (IsNameStart(c)) {
        const size_t start = pos_;
        const int column = column_;
        while (pos_ < text_.size() && IsNameChar(text_[pos_])) Advance(1);
        Emit(TokenKind::kName, text_.substr(start, pos_ - start), line_, column);
        continue;
      }
      CB_RETURN_IF_ERROR(Operator());
    }
    if (depth_ > 0) {
      return Error(bracket_line_, "'" + std::string(1, bracket_) + "' is never closed");
    }
    if (!tokens_.empty() && tokens_.back().kind != TokenKind::kNewline &&
        tokens_.back().kind != TokenKind::kDedent && HasCodeOnLine()) {
      Emit(TokenKind::kNewline, "", line_, column_);
    }
    while (indents_.size() > 1) {
      indents_.pop_back();
      Emit(TokenKind::kDedent, "", line_, 1);
    }
    Emit(TokenKind::kEnd, "", line_, 1);
    return std::move(tokens_);
  }

 private:
  Status Error(int line, const std::string& what) const {
    return Status::InvalidArgument(source_ + ":" + std::to_string(line) +
                                   ": Python syntax error: " + what);
  }

  void Advance(size_t n) {
    pos_ += n;
    column_ += static_cast<int>(n);
  }

  void Emit(TokenKind kind, std::string text, int line, int column) {
    tokens_.push_back({kind, std::move(text), line, column, line_, column_});
    if (kind != TokenKind::kComment && kind != TokenKind::kNewline) code_on_line_ = true;
  }

  bool HasCodeOnLine() const { return code_on_line_; }

  // Measures the indentation of a new logical line; blank and comment-only lines do not
  // count. Emits INDENT or DEDENTs.
  Status Indentation() {
    int width = 0;
    size_t scan = pos_;
    while (scan < text_.size() && (text_[scan] == ' ' || text_[scan] == '\t' ||
                                   text_[scan] == '\f' || text_[scan] == '\r')) {
      if (text_[scan] == '\t') {
        width = (width / 8 + 1) * 8;
      } else if (text_[scan] == ' ') {
        ++width;
      }
      ++scan;
    }
    if (scan >= text_.size() || text_[scan] == '\n' || text_[scan] == '#') {
      Advance(scan - pos_);
      if (pos_ < text_.size() && text_[pos_] == '#') Comment();
      if (pos_ < text_.size() && text_[pos_] == '\n') {
        ++pos_;
        ++line_;
        column_ = 1;
      }
      return Status::Ok();  // still at a line start
    }
    Advance(scan - pos_);
    at_line_start_ = false;
    if (width > indents_.back()) {
      indents_.push_back(width);
      Emit(TokenKind::kIndent, "", line_, 1);
    } else {
      while (width < indents_.back()) {
        indents_.pop_back();
        Emit(TokenKind::kDedent, "", line_, 1);
      }
      if (width != indents_.back()) {
        return Error(line_, "the indentation does not match any outer level");
      }
    }
    return Status::Ok();
  }

  void Newline() {
    if (depth_ == 0 && code_on_line_) {
      Emit(TokenKind::kNewline, "", line_, column_);
      code_on_line_ = false;
    }
    ++pos_;
    ++line_;
    column_ = 1;
    if (depth_ == 0) at_line_start_ = true;
  }

  void Comment() {
    const size_t start = pos_;
    const int column = column_;
    while (pos_ < text_.size() && text_[pos_] != '\n') Advance(1);
    std::string comment = text_.substr(start, pos_ - start);
    while (!comment.empty() && comment.back() == '\r') comment.pop_back();
    tokens_.push_back({TokenKind::kComment, comment, line_, column, line_, column_});
  }

  size_t PrefixLength() const {
    size_t n = 0;
    while (n < 2 && pos_ + n < text_.size() &&
           std::string("rRbBuUfF").find(text_[pos_ + n]) != std::string::npos) {
      ++n;
    }
    return n;
  }

  bool IsStringStart() const {
    const size_t prefix = PrefixLength();
    if (pos_ + prefix >= text_.size()) return false;
    const char quote = text_[pos_ + prefix];
    if (quote != '\'' && quote != '"') return false;
    // A name such as "bu" followed by a quote is still a prefixed string; "rb'..'" too.
    return prefix == 0 || !IsNameChar(pos_ > 0 ? text_[pos_ - 1] : ' ');
  }

  Status String() {
    const int line = line_;
    const int column = column_;
    const size_t prefix = PrefixLength();
    bool raw = false;
    for (size_t i = 0; i < prefix; ++i) {
      const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(text_[pos_ + i])));
      if (p == 'r' || p == 'f') raw = true;  // f-strings: kept as written
    }
    Advance(prefix);
    const char quote = text_[pos_];
    const bool triple =
        pos_ + 2 < text_.size() && text_[pos_ + 1] == quote && text_[pos_ + 2] == quote;
    Advance(triple ? 3 : 1);
    std::string value;
    while (true) {
      if (pos_ >= text_.size()) return Error(line, "this string is never closed");
      const char c = text_[pos_];
      if (c == '\n') {
        if (!triple) return Error(line, "this string is never closed on its line");
        value += c;
        ++pos_;
        ++line_;
        column_ = 1;
        continue;
      }
      if (c == quote && (!triple || (pos_ + 2 < text_.size() && text_[pos_ + 1] == quote &&
                                     text_[pos_ + 2] == quote))) {
        Advance(triple ? 3 : 1);
        break;
      }
      if (c == '\\' && pos_ + 1 < text_.size()) {
        const char next = text_[pos_ + 1];
        if (next == '\n') {  // line continuation inside a string
          pos_ += 2;
          ++line_;
          column_ = 1;
          if (raw) value += "\\\n";
          continue;
        }
        if (raw) {
          value += c;
          value += next;
        } else {
          switch (next) {
            case 'n':
              value += '\n';
              break;
            case 't':
              value += '\t';
              break;
            case 'r':
              value += '\r';
              break;
            case '0':
              value += '\0';
              break;
            case '\\':
            case '\'':
            case '"':
              value += next;
              break;
            default:
              value += c;
              value += next;
          }
        }
        Advance(2);
        continue;
      }
      value += c;
      Advance(1);
    }
    Emit(TokenKind::kString, std::move(value), line, column);
    return Status::Ok();
  }

  void Number() {
    const size_t start = pos_;
    const int column = column_;
    auto digit = [&](size_t at) {
      return at < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[at])) ||
                                   text_[at] == '_' || text_[at] == '.');
    };
    while (digit(pos_)) {
      const char c = text_[pos_];
      Advance(1);
      // An exponent sign: 1e-3, 2.5E+4 (not in hex literals, where e is a digit).
      if ((c == 'e' || c == 'E') && pos_ < text_.size() &&
          (text_[pos_] == '-' || text_[pos_] == '+') &&
          !(text_.size() > start + 1 && (text_[start + 1] == 'x' || text_[start + 1] == 'X'))) {
        Advance(1);
      }
    }
    Emit(TokenKind::kNumber, text_.substr(start, pos_ - start), line_, column);
  }

  Status Operator() {
    for (const char* op : kOperators) {
      const std::string candidate(op);
      if (text_.compare(pos_, candidate.size(), candidate) != 0) continue;
      if (candidate == "(" || candidate == "[" || candidate == "{") {
        if (depth_ == 0) {
          bracket_line_ = line_;
          bracket_ = candidate[0];
        }
        ++depth_;
      } else if (candidate == ")" || candidate == "]" || candidate == "}") {
        if (depth_ == 0) return Error(line_, "'" + candidate + "' closes nothing");
        --depth_;
      }
      const int column = column_;
      Advance(candidate.size());
      Emit(TokenKind::kOp, candidate, line_, column);
      return Status::Ok();
    }
    return Error(line_, "unexpected character '" + std::string(1, text_[pos_]) + "'");
  }

  const std::string& text_;
  const std::string& source_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  int depth_ = 0;
  int bracket_line_ = 0;
  char bracket_ = '(';
  bool at_line_start_ = true;
  bool code_on_line_ = false;
  std::vector<int> indents_;
  std::vector<Token> tokens_;
};

}  // namespace

Result<std::vector<Token>> TokenizePython(const std::string& text, const std::string& source_name) {
  return Tokenizer(text, source_name).Run();
}

}  // namespace cloudbook::keras_import
