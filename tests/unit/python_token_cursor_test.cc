// maker/keras_import/python_token_cursor.h: the Python parser's read position, its nesting
// bound and the source excerpts its messages quote.
#include "maker/keras_import/python_token_cursor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "maker/keras_import/python_parser.h"

namespace cloudbook::keras_import {
namespace {

// The cursor's interface is for parsers (protected); a test parser opens it.
class Cursor : public TokenCursor {
 public:
  using TokenCursor::AtName;
  using TokenCursor::AtOp;
  using TokenCursor::ExpectOp;
  using TokenCursor::LineText;
  using TokenCursor::Next;
  using TokenCursor::Peek;
  using TokenCursor::Position;
  using TokenCursor::Rewind;
  using TokenCursor::SourceFrom;
  using TokenCursor::TokenCursor;
  void Nest(int levels) {
    if (levels == 0) return;
    const NestingGuard guard(this);
    Nest(levels - 1);
  }
};

TEST(PythonTokenCursor, ReadsSkipsCommentsAndRewinds) {
  const std::string text = "x = f(a,   # note\n      b)\n";
  const std::vector<std::string> lines = SplitLines(text);
  const Result<std::vector<Token>> tokens = TokenizePython(text, "t.py");
  ASSERT_TRUE(tokens.ok());
  Cursor cursor(*tokens, lines);
  EXPECT_TRUE(cursor.AtName("x"));
  cursor.Next();
  cursor.ExpectOp("=");
  const size_t call = cursor.Position();
  while (!cursor.AtOp(")")) cursor.Next();
  cursor.Next();
  EXPECT_EQ(cursor.SourceFrom(call), "f(a, b)") << "comment dropped, whitespace folded";
  EXPECT_EQ(cursor.LineText(2), "b)");
  cursor.Rewind(call);
  EXPECT_EQ(cursor.Peek().text, "f");
  try {
    cursor.ExpectOp("(");
    FAIL() << "expected a SyntaxProblem";
  } catch (const SyntaxProblem& problem) {
    EXPECT_EQ(problem.line, 1);
    EXPECT_EQ(problem.what, "expected '(', got 'f'");
  }
}

TEST(PythonTokenCursor, NestingPastTheBoundIsASyntaxProblem) {
  const std::vector<std::string> lines = {"x"};
  const Result<std::vector<Token>> tokens = TokenizePython("x", "t.py");
  ASSERT_TRUE(tokens.ok());
  Cursor cursor(*tokens, lines);
  cursor.Nest(kMaxNesting);  // at the bound: fine
  EXPECT_THROW(cursor.Nest(kMaxNesting + 1), SyntaxProblem);
  cursor.Nest(kMaxNesting);  // the guards let go of their levels on the way out
}

}  // namespace
}  // namespace cloudbook::keras_import
