#include "maker/keras_import/python_expression_parser.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

namespace cloudbook::keras_import {

ExprPtr ExpressionParser::SingleExpression() {
  ExprPtr expr = TestList();
  while (AtKind(TokenKind::kNewline)) Next();
  if (!AtKind(TokenKind::kEnd)) Fail("unexpected '" + Peek().text + "'");
  return expr;
}

ExprPtr ExpressionParser::Finish(Expr expr, size_t first_token) {
  for (const ExprPtr& item : expr.items) {
    if (item) expr.depth = std::max(expr.depth, item->depth + 1);
  }
  if (expr.object) expr.depth = std::max(expr.depth, expr.object->depth + 1);
  for (const Argument& argument : expr.arguments) {
    if (argument.value) expr.depth = std::max(expr.depth, argument.value->depth + 1);
  }
  if (expr.depth > kMaxNesting) Fail(TooDeep());
  expr.line = TokenAt(first_token).line;
  expr.source = SourceFrom(first_token);
  return std::make_shared<const Expr>(std::move(expr));
}

ExprPtr ExpressionParser::Make(Expr::Kind kind, std::string text, size_t first_token,
                               std::vector<ExprPtr> items, ExprPtr object) {
  Expr expr;
  expr.kind = kind;
  expr.text = std::move(text);
  expr.items = std::move(items);
  expr.object = std::move(object);
  return Finish(std::move(expr), first_token);
}

// a, b, c (a tuple when there is a comma)
ExprPtr ExpressionParser::TestList() {
  const size_t start = Position();
  ExprPtr first = StarOrTest();
  if (!AtOp(",")) return first;
  std::vector<ExprPtr> items{first};
  while (AtOp(",")) {
    Next();
    if (EndsTestList()) break;
    items.push_back(StarOrTest());
  }
  return Make(Expr::Kind::kTuple, "", start, std::move(items));
}

ExprPtr ExpressionParser::TargetList() {
  const size_t start = Position();
  ExprPtr first = Binary(0);  // below comparisons: 'in' ends the targets
  if (!AtOp(",")) return first;
  std::vector<ExprPtr> items{first};
  while (AtOp(",")) {
    Next();
    if (AtName("in")) break;
    items.push_back(Binary(0));
  }
  return Make(Expr::Kind::kTuple, "", start, std::move(items));
}

bool ExpressionParser::EndsTestList() const {
  return AtKind(TokenKind::kNewline) || AtKind(TokenKind::kEnd) || AtOp("=") || AtOp(")") ||
         AtOp("]") || AtOp("}") || AtOp(";") || AtOp(":") ||
         (AtKind(TokenKind::kOp) && Peek().text.size() >= 2 && Peek().text.back() == '=' &&
          Peek().text != "==" && Peek().text != "<=" && Peek().text != ">=" && Peek().text != "!=");
}

ExprPtr ExpressionParser::StarOrTest() {
  if (AtOp("*") || AtOp("**")) {
    const size_t start = Position();
    const std::string op = Next().text;
    return Make(Expr::Kind::kUnary, op, start, {Test()});
  }
  return Test();
}

ExprPtr ExpressionParser::NamedTest() {
  ExprPtr value = Test();
  if (AtOp(":=")) {
    Next();
    return Test();
  }
  return value;
}

ExprPtr ExpressionParser::Test() {
  const NestingGuard guard(this);
  const size_t start = Position();
  if (AtName("lambda")) {
    Next();
    int depth = 0;
    // The parameters, up to the ':' (commas between them do not end the lambda).
    while (!AtKind(TokenKind::kEnd) && !AtKind(TokenKind::kNewline) && !(depth == 0 && AtOp(":"))) {
      if (AtOp("(") || AtOp("[") || AtOp("{")) ++depth;
      if (AtOp(")") || AtOp("]") || AtOp("}")) --depth;
      Next();
    }
    while (!AtKind(TokenKind::kEnd) && !AtKind(TokenKind::kNewline)) {
      if (depth == 0 && (AtOp(",") || AtOp(")") || AtOp("]") || AtOp("}"))) break;
      if (AtOp("(") || AtOp("[") || AtOp("{")) ++depth;
      if (AtOp(")") || AtOp("]") || AtOp("}")) --depth;
      Next();
    }
    return Make(Expr::Kind::kOpaque, "lambda", start, {});
  }
  ExprPtr body = OrTest();
  if (AtName("if")) {
    Next();
    ExprPtr condition = OrTest();
    if (!AtName("else")) Fail("expected 'else'");
    Next();
    ExprPtr orelse = Test();
    return Make(Expr::Kind::kIfElse, "", start, {body, condition, orelse});
  }
  return body;
}

ExprPtr ExpressionParser::OrTest() {
  const size_t start = Position();
  ExprPtr left = AndTest();
  while (AtName("or")) {
    Next();
    left = Make(Expr::Kind::kBinary, "or", start, {left, AndTest()});
  }
  return left;
}

ExprPtr ExpressionParser::AndTest() {
  const size_t start = Position();
  ExprPtr left = NotTest();
  while (AtName("and")) {
    Next();
    left = Make(Expr::Kind::kBinary, "and", start, {left, NotTest()});
  }
  return left;
}

ExprPtr ExpressionParser::NotTest() {
  const size_t start = Position();
  if (AtName("not")) {
    Next();
    const NestingGuard guard(this);
    return Make(Expr::Kind::kUnary, "not", start, {NotTest()});
  }
  return Comparison();
}

ExprPtr ExpressionParser::Comparison() {
  const size_t start = Position();
  ExprPtr left = Binary(0);
  while (true) {
    std::string op;
    if (AtOp("<") || AtOp(">") || AtOp("==") || AtOp(">=") || AtOp("<=") || AtOp("!=")) {
      op = Next().text;
    } else if (AtName("in")) {
      op = Next().text;
    } else if (AtName("not") && Peek(1).kind == TokenKind::kName && Peek(1).text == "in") {
      Next();
      Next();
      op = "not in";
    } else if (AtName("is")) {
      Next();
      op = "is";
      if (AtName("not")) {
        Next();
        op = "is not";
      }
    } else {
      return left;
    }
    left = Make(Expr::Kind::kCompare, op, start, {left, Binary(0)});
  }
}

// Binary operators by precedence level, lowest first.
ExprPtr ExpressionParser::Binary(size_t level) {
  static const std::vector<std::vector<std::string>> levels = {
      {"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"}};
  if (level == levels.size()) return Factor();
  const size_t start = Position();
  ExprPtr left = Binary(level + 1);
  while (AtKind(TokenKind::kOp) && std::find(levels[level].begin(), levels[level].end(),
                                             Peek().text) != levels[level].end()) {
    const std::string op = Next().text;
    left = Make(Expr::Kind::kBinary, op, start, {left, Binary(level + 1)});
  }
  return left;
}

ExprPtr ExpressionParser::Factor() {
  const size_t start = Position();
  if (AtOp("-") || AtOp("+") || AtOp("~")) {
    const std::string op = Next().text;
    const NestingGuard guard(this);
    return Make(Expr::Kind::kUnary, op, start, {Factor()});
  }
  return Power();
}

ExprPtr ExpressionParser::Power() {
  const size_t start = Position();
  if (AtName("await")) Next();
  ExprPtr base = Primary();
  if (AtOp("**")) {
    Next();
    const NestingGuard guard(this);
    return Make(Expr::Kind::kBinary, "**", start, {base, Factor()});
  }
  return base;
}

ExprPtr ExpressionParser::Primary() {
  const size_t start = Position();
  ExprPtr expr = Atom();
  while (true) {
    if (AtOp(".")) {
      Next();
      const std::string name = ExpectName();
      expr = Make(Expr::Kind::kAttribute, name, start, {}, expr);
    } else if (AtOp("(")) {
      Next();
      Expr call;
      call.kind = Expr::Kind::kCall;
      call.object = expr;
      call.arguments = Arguments();
      ExpectOp(")");
      expr = Finish(std::move(call), start);
    } else if (AtOp("[")) {
      Next();
      std::vector<ExprPtr> items{SubscriptItem()};
      while (AtOp(",")) {
        Next();
        if (AtOp("]")) break;
        items.push_back(SubscriptItem());
      }
      ExpectOp("]");
      expr = Make(Expr::Kind::kSubscript, "", start, std::move(items), expr);
    } else {
      return expr;
    }
  }
}

std::vector<Argument> ExpressionParser::Arguments() {
  std::vector<Argument> arguments;
  while (!AtOp(")")) {
    Argument argument;
    if (AtOp("*") || AtOp("**")) {
      argument.star = true;
      argument.keyword = Next().text;
      argument.value = Test();
    } else if (AtKind(TokenKind::kName) && Peek(1).kind == TokenKind::kOp && Peek(1).text == "=") {
      argument.keyword = Next().text;
      Next();
      argument.value = Test();
    } else {
      argument.value = NamedTest();
      if (AtName("for") || AtName("async")) {  // generator argument: f(x for x in y)
        SkipComprehension();
        argument.value = Make(Expr::Kind::kOpaque, "comprehension", Position() - 1, {});
      }
    }
    arguments.push_back(std::move(argument));
    if (!AtOp(",")) break;
    Next();
  }
  return arguments;
}

ExprPtr ExpressionParser::SubscriptItem() {
  const size_t start = Position();
  std::vector<ExprPtr> parts;
  ExprPtr lower = AtOp(":") ? nullptr : Test();
  if (!AtOp(":")) return lower;
  parts.push_back(lower);
  Next();
  parts.push_back(AtOp(":") || AtOp("]") || AtOp(",") ? nullptr : Test());
  if (AtOp(":")) {
    Next();
    parts.push_back(AtOp("]") || AtOp(",") ? nullptr : Test());
  } else {
    parts.push_back(nullptr);
  }
  return Make(Expr::Kind::kSlice, "", start, std::move(parts));
}

// Skips "for ... in ... [if ...]" up to the closing bracket (not consumed).
void ExpressionParser::SkipComprehension() {
  int depth = 0;
  while (!AtKind(TokenKind::kEnd)) {
    if (depth == 0 && (AtOp(")") || AtOp("]") || AtOp("}"))) return;
    if (AtOp("(") || AtOp("[") || AtOp("{")) ++depth;
    if (AtOp(")") || AtOp("]") || AtOp("}")) --depth;
    Next();
  }
}

// Items of a (...) [...] or {...} display up to `close`; a comprehension becomes kOpaque.
std::vector<ExprPtr> ExpressionParser::DisplayItems(const std::string& close, bool* comprehension,
                                                    bool* trailing_comma) {
  std::vector<ExprPtr> items;
  *comprehension = false;
  *trailing_comma = false;
  while (!AtOp(close)) {
    items.push_back(StarOrTest());
    if (AtName("for") || AtName("async")) {
      SkipComprehension();
      *comprehension = true;
      break;
    }
    if (!AtOp(",")) break;
    Next();
    *trailing_comma = true;
    if (!AtOp(close)) *trailing_comma = false;
  }
  return items;
}

ExprPtr ExpressionParser::Atom() {
  const size_t start = Position();
  const Token& token = Peek();
  switch (token.kind) {
    case TokenKind::kName: {
      static const std::set<std::string> reserved = {
          "def", "class", "if",  "elif", "else", "for", "while",  "return",  "import", "from",
          "in",  "is",    "and", "or",   "with", "try", "except", "finally", "pass",   "global"};
      if (reserved.count(token.text) > 0) Fail("unexpected '" + token.text + "'");
      Next();
      return Make(Expr::Kind::kName, token.text, start, {});
    }
    case TokenKind::kNumber:
      Next();
      return Make(Expr::Kind::kNumber, token.text, start, {});
    case TokenKind::kString: {
      std::string text;
      while (AtKind(TokenKind::kString)) text += Next().text;
      return Make(Expr::Kind::kString, text, start, {});
    }
    case TokenKind::kOp:
      break;
    default:
      Fail(token.kind == TokenKind::kNewline ? "the line ends where a value was expected"
                                             : "a value was expected");
  }
  if (AtOp("...")) {
    Next();
    return Make(Expr::Kind::kName, "Ellipsis", start, {});
  }
  const NestingGuard guard(this);  // a bracketed display
  bool comprehension = false;
  bool trailing_comma = false;
  if (AtOp("(")) {
    Next();
    if (AtName("yield")) Fail("'yield' is not supported");
    std::vector<ExprPtr> items = DisplayItems(")", &comprehension, &trailing_comma);
    ExpectOp(")");
    if (comprehension) return Make(Expr::Kind::kOpaque, "comprehension", start, {});
    if (items.size() == 1 && !trailing_comma) {
      // Parentheses only group; keep the inner node but widen its source text.
      Expr inner = *items[0];
      return Finish(std::move(inner), start);
    }
    return Make(Expr::Kind::kTuple, "", start, std::move(items));
  }
  if (AtOp("[")) {
    Next();
    std::vector<ExprPtr> items = DisplayItems("]", &comprehension, &trailing_comma);
    ExpectOp("]");
    if (comprehension) return Make(Expr::Kind::kOpaque, "comprehension", start, {});
    return Make(Expr::Kind::kList, "", start, std::move(items));
  }
  if (AtOp("{")) {
    Next();
    std::vector<ExprPtr> items;
    while (!AtOp("}")) {
      if (AtOp("**")) {
        Next();
        items.push_back(Binary(0));
        items.push_back(nullptr);
      } else {
        ExprPtr key = Test();
        if (AtName("for")) {
          SkipComprehension();
          ExpectOp("}");
          return Make(Expr::Kind::kOpaque, "comprehension", start, {});
        }
        if (AtOp(":")) {
          Next();
          items.push_back(key);
          items.push_back(Test());
          if (AtName("for")) {
            SkipComprehension();
            ExpectOp("}");
            return Make(Expr::Kind::kOpaque, "comprehension", start, {});
          }
        } else {
          items.push_back(key);  // a set display: kept as key with no value
          items.push_back(nullptr);
        }
      }
      if (!AtOp(",")) break;
      Next();
    }
    ExpectOp("}");
    return Make(Expr::Kind::kDict, "", start, std::move(items));
  }
  Fail("unexpected '" + token.text + "'");
}
}  // namespace cloudbook::keras_import
