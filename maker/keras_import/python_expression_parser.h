// The expression grammar of the Python subset (python_syntax.h) over a TokenCursor: tests,
// operators by precedence, calls, subscripts, slices and displays; lambdas and comprehensions
// become kOpaque. Not thread-safe (one per parse). Throws SyntaxProblem (with its line) on
// what it cannot read and past kMaxNesting; the statement parser catches it.
#pragma once

#include <string>
#include <vector>

#include "maker/keras_import/python_syntax.h"
#include "maker/keras_import/python_token_cursor.h"

namespace cloudbook::keras_import {

class ExpressionParser : public TokenCursor {
 public:
  using TokenCursor::TokenCursor;

  // The whole input as one expression (trailing newlines allowed).
  ExprPtr SingleExpression();

 protected:
  // a, b, c (a tuple when there is a comma)
  ExprPtr TestList();
  // x, or the value of x := y
  ExprPtr NamedTest();
  // x, x if c else y, or a lambda (kOpaque)
  ExprPtr Test();
  // The targets of a for statement, up to 'in': i / i, x / (a, b), c
  ExprPtr TargetList();

 private:
  // The node's depth (bounded by kMaxNesting), line and source from `first_token` on.
  ExprPtr Finish(Expr expr, size_t first_token);
  ExprPtr Make(Expr::Kind kind, std::string text, size_t first_token, std::vector<ExprPtr> items,
               ExprPtr object = nullptr);
  bool EndsTestList() const;
  ExprPtr StarOrTest();
  ExprPtr OrTest();
  ExprPtr AndTest();
  ExprPtr NotTest();
  ExprPtr Comparison();
  ExprPtr Binary(size_t level);
  ExprPtr Factor();
  ExprPtr Power();
  ExprPtr Primary();
  std::vector<Argument> Arguments();
  ExprPtr SubscriptItem();
  void SkipComprehension();
  std::vector<ExprPtr> DisplayItems(const std::string& close, bool* comprehension,
                                    bool* trailing_comma);
  ExprPtr Atom();
};

}  // namespace cloudbook::keras_import
