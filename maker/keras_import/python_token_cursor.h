// A read position in TokenizePython's tokens (comments dropped) for the Python parser: look
// ahead, consume, expect, nesting bounds, and the source text between tokens for messages.
// Not thread-safe (one per parse). What it cannot accept it throws as SyntaxProblem, which the
// parser catches per statement (or per expression) and never lets cross its border.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "maker/keras_import/python_tokenizer.h"

namespace cloudbook::keras_import {

// Thrown inside the parser only, caught per statement (never crosses the module border):
// one unreadable statement becomes kUnparsed and the parse goes on.
struct SyntaxProblem {
  int line;
  std::string what;
};

// Hostile input must not exhaust the stack: brackets, operators and indented blocks nest at
// most this deep (in the parser, and so in the interpreter and the tree's destructors).
constexpr int kMaxNesting = 100;
// Longer sources are cut in messages (a node keeps its text; without a cap a long expression
// would cost quadratic time and memory).
constexpr size_t kMaxSourceChars = 200;

class TokenCursor {
 public:
  // `lines` (the source split at '\n') must outlive the cursor.
  TokenCursor(const std::vector<Token>& tokens, const std::vector<std::string>& lines);

 protected:
  // Counts one level of recursion for as long as it lives; past kMaxNesting, a SyntaxProblem.
  class NestingGuard {
   public:
    explicit NestingGuard(TokenCursor* cursor) : cursor_(cursor) {
      if (++cursor_->nesting_ > kMaxNesting) {
        --cursor_->nesting_;
        cursor_->Fail(cursor_->TooDeep());
      }
    }
    ~NestingGuard() { --cursor_->nesting_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    TokenCursor* cursor_;
  };

  std::string TooDeep() const;

  // The token `ahead` places on (the end token past the last one).
  const Token& Peek(size_t ahead = 0) const;
  bool AtKind(TokenKind kind) const;
  bool AtOp(const std::string& op) const;
  bool AtName(const std::string& name) const;
  // Consumes the token at the cursor and returns it (never moves past the end token).
  const Token& Next();
  [[noreturn]] void Fail(const std::string& what) const;
  void ExpectOp(const std::string& op);
  std::string ExpectName();

  // Positions are indexes of tokens, for Rewind and for SourceFrom.
  size_t Position() const { return pos_; }
  void Rewind(size_t position) { pos_ = position; }
  const Token& TokenAt(size_t position) const { return tokens_[position]; }
  // The last token consumed (the first token when none was).
  const Token& Previous() const { return tokens_[pos_ > 0 ? pos_ - 1 : 0]; }

  // Line `line` (1-based) without its indentation and trailing blanks; "" when out of range.
  std::string LineText(int line) const;
  // The source from the token at `first_token` to the last one consumed, whitespace runs
  // folded, comments dropped, cut at kMaxSourceChars: what messages quote.
  std::string SourceFrom(size_t first_token) const;

 private:
  std::string SourceBetween(const Token& first, const Token& last) const;

  std::vector<Token> tokens_;
  const std::vector<std::string>& lines_;
  size_t pos_ = 0;
  int nesting_ = 0;  // NestingGuard levels now open
};

}  // namespace cloudbook::keras_import
