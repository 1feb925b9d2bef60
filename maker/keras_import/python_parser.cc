#include "maker/keras_import/python_parser.h"

#include <algorithm>
#include <set>
#include <utility>

namespace cloudbook::keras_import {
namespace {

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

const std::set<std::string>& CompoundKeywords() {
  static const auto* words =
      new std::set<std::string>{"for", "while", "with", "try", "class", "async"};
  return *words;
}

const std::set<std::string>& SimpleKeywords() {
  static const auto* words =
      new std::set<std::string>{"del", "assert", "raise", "nonlocal", "yield", "await"};
  return *words;
}

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

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const std::vector<std::string>& lines) : lines_(lines) {
    for (const Token& token : tokens) {
      if (token.kind != TokenKind::kComment) tokens_.push_back(token);
    }
    if (tokens_.empty() || tokens_.back().kind != TokenKind::kEnd) {
      tokens_.push_back({TokenKind::kEnd, "", 0, 0, 0, 0});
    }
  }

  Block Module() {
    Block block;
    while (!AtKind(TokenKind::kEnd)) {
      if (AtKind(TokenKind::kDedent) || AtKind(TokenKind::kNewline)) {
        ++pos_;
        continue;
      }
      if (AtKind(TokenKind::kIndent)) {  // stray indentation: skip that block
        Statement bad = UnparsedAt(Peek().line, "unexpected indentation");
        SkipIndentedBlock();
        block.push_back(std::move(bad));
        continue;
      }
      ParseStatementInto(&block);
    }
    return block;
  }

  ExprPtr SingleExpression() {
    ExprPtr expr = TestList();
    while (AtKind(TokenKind::kNewline)) ++pos_;
    if (!AtKind(TokenKind::kEnd)) Fail("unexpected '" + Peek().text + "'");
    return expr;
  }

 private:
  // Counts one level of recursion for as long as it lives; past kMaxNesting, a SyntaxProblem.
  class NestingGuard {
   public:
    explicit NestingGuard(Parser* parser) : parser_(parser) {
      if (++parser_->nesting_ > kMaxNesting) {
        --parser_->nesting_;
        parser_->Fail(parser_->TooDeep());
      }
    }
    ~NestingGuard() { --parser_->nesting_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    Parser* parser_;
  };

  std::string TooDeep() const {
    return "nested more than " + std::to_string(kMaxNesting) +
           " levels deep (brackets, operators, calls or indented blocks); the importer reads "
           "programs nested at most that deep";
  }

  // ---- token helpers ----
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  bool AtKind(TokenKind kind) const { return Peek().kind == kind; }
  bool AtOp(const std::string& op) const { return AtKind(TokenKind::kOp) && Peek().text == op; }
  bool AtName(const std::string& name) const {
    return AtKind(TokenKind::kName) && Peek().text == name;
  }
  const Token& Next() {
    const Token& token = Peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return token;
  }
  [[noreturn]] void Fail(const std::string& what) const { throw SyntaxProblem{Peek().line, what}; }
  void ExpectOp(const std::string& op) {
    if (!AtOp(op)) {
      Fail("expected '" + op + "', got " +
           (Peek().text.empty() ? "the end of the line" : "'" + Peek().text + "'"));
    }
    Next();
  }
  std::string ExpectName() {
    if (!AtKind(TokenKind::kName)) Fail("expected a name, got '" + Peek().text + "'");
    return Next().text;
  }

  std::string LineText(int line) const {
    if (line < 1 || line > static_cast<int>(lines_.size())) return "";
    std::string text = lines_[line - 1];
    const size_t first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    text = text.substr(first);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
    return text;
  }

  // The source between two tokens, whitespace runs folded, for messages.
  std::string SourceBetween(const Token& first, const Token& last) const {
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

  ExprPtr Finish(Expr expr, size_t first_token) {
    for (const ExprPtr& item : expr.items) {
      if (item) expr.depth = std::max(expr.depth, item->depth + 1);
    }
    if (expr.object) expr.depth = std::max(expr.depth, expr.object->depth + 1);
    for (const Argument& argument : expr.arguments) {
      if (argument.value) expr.depth = std::max(expr.depth, argument.value->depth + 1);
    }
    if (expr.depth > kMaxNesting) Fail(TooDeep());
    const Token& first = tokens_[first_token];
    const Token& last = tokens_[pos_ > 0 ? pos_ - 1 : 0];
    expr.line = first.line;
    expr.source = SourceBetween(first, last);
    return std::make_shared<const Expr>(std::move(expr));
  }

  Statement UnparsedAt(int line, const std::string& why) const {
    Statement statement;
    statement.kind = Statement::Kind::kUnparsed;
    statement.text = why;
    statement.line = line;
    statement.end_line = line;
    statement.source = LineText(line);
    return statement;
  }

  void SkipIndentedBlock() {
    int depth = 0;
    while (!AtKind(TokenKind::kEnd)) {
      if (AtKind(TokenKind::kIndent)) ++depth;
      if (AtKind(TokenKind::kDedent) && --depth == 0) {
        ++pos_;
        return;
      }
      ++pos_;
    }
  }

  // Skips the rest of a logical line that failed, and the block under it if any.
  void Recover() {
    while (!AtKind(TokenKind::kEnd) && !AtKind(TokenKind::kNewline)) ++pos_;
    if (AtKind(TokenKind::kNewline)) ++pos_;
    if (AtKind(TokenKind::kIndent)) SkipIndentedBlock();
  }

  // ---- statements ----
  void ParseStatementInto(Block* block) {
    const size_t start = pos_;
    const size_t parsed = block->size();
    const int line = Peek().line;
    try {
      ParseStatement(block);
    } catch (const SyntaxProblem& problem) {
      block->resize(parsed);  // drop the part of the line read before the problem
      pos_ = start;
      Recover();
      Statement bad = UnparsedAt(problem.line, problem.what);
      bad.line = line;
      block->push_back(std::move(bad));
    }
  }

  void ParseStatement(Block* block) {
    const Token& head = Peek();
    const int line = head.line;
    if (AtKind(TokenKind::kName)) {
      if (head.text == "def") return block->push_back(Def());
      if (head.text == "if") return block->push_back(If());
      if (CompoundKeywords().count(head.text) > 0) return block->push_back(OtherCompound());
    }
    if (AtOp("@")) {  // decorator: kept as kOther, the decorated statement follows
      Statement decorator = Simple(Statement::Kind::kOther, "decorator", line);
      while (!AtKind(TokenKind::kNewline) && !AtKind(TokenKind::kEnd)) Next();
      if (AtKind(TokenKind::kNewline)) Next();
      return block->push_back(std::move(decorator));
    }
    SimpleStatements(block);
    if (AtKind(TokenKind::kNewline)) {
      Next();
    } else if (!AtKind(TokenKind::kEnd) && !AtKind(TokenKind::kDedent)) {
      Fail("unexpected '" + Peek().text + "' after the statement");
    }
  }

  Statement Simple(Statement::Kind kind, std::string text, int line) const {
    Statement statement;
    statement.kind = kind;
    statement.text = std::move(text);
    statement.line = line;
    statement.end_line = line;
    statement.source = LineText(line);
    return statement;
  }

  // simple_stmt (';' simple_stmt)*
  void SimpleStatements(Block* block) {
    while (true) {
      Statement statement = SmallStatement();
      statement.end_line = std::max(statement.line, tokens_[pos_ > 0 ? pos_ - 1 : 0].end_line);
      block->push_back(std::move(statement));
      if (!AtOp(";")) break;
      Next();
      if (AtKind(TokenKind::kNewline) || AtKind(TokenKind::kEnd)) break;
    }
  }

  Statement SmallStatement() {
    const int line = Peek().line;
    if (AtKind(TokenKind::kName)) {
      const std::string word = Peek().text;
      if (word == "pass" || word == "break" || word == "continue") {
        Next();
        return Simple(Statement::Kind::kPass, word, line);
      }
      if (word == "import") return Import();
      if (word == "from") return FromImport();
      if (word == "global") {
        Next();
        Statement statement = Simple(Statement::Kind::kGlobal, "", line);
        statement.names.push_back(ExpectName());
        while (AtOp(",")) {
          Next();
          statement.names.push_back(ExpectName());
        }
        return statement;
      }
      if (word == "return") {
        Next();
        Statement statement = Simple(Statement::Kind::kReturn, "", line);
        if (!AtKind(TokenKind::kNewline) && !AtOp(";") && !AtKind(TokenKind::kEnd)) {
          statement.value = TestList();
        }
        return statement;
      }
      if (SimpleKeywords().count(word) > 0) {
        Next();
        while (!AtKind(TokenKind::kNewline) && !AtOp(";") && !AtKind(TokenKind::kEnd)) Next();
        return Simple(Statement::Kind::kOther, word, line);
      }
    }
    // Expression, assignment (a = b = c) or augmented assignment (a += 1).
    ExprPtr first = TestList();
    if (AtOp(":")) {  // annotated assignment: x: int = 3
      Next();
      TestList();
      if (!AtOp("=")) return Simple(Statement::Kind::kPass, "annotation", line);
    }
    if (AtKind(TokenKind::kOp) && Peek().text.size() >= 2 && Peek().text.back() == '=' &&
        Peek().text != "==" && Peek().text != "<=" && Peek().text != ">=" && Peek().text != "!=") {
      Statement statement = Simple(Statement::Kind::kAugAssign, Next().text, line);
      statement.text.pop_back();
      statement.targets.push_back(first);
      statement.value = TestList();
      return statement;
    }
    if (!AtOp("=")) {
      Statement statement = Simple(Statement::Kind::kExpression, "", line);
      statement.value = first;
      return statement;
    }
    Statement statement = Simple(Statement::Kind::kAssign, "", line);
    statement.targets.push_back(first);
    while (AtOp("=")) {
      Next();
      statement.targets.push_back(TestList());
    }
    statement.value = statement.targets.back();
    statement.targets.pop_back();
    return statement;
  }

  std::string DottedName() {
    std::string name = ExpectName();
    while (AtOp(".")) {
      Next();
      name += "." + ExpectName();
    }
    return name;
  }

  Statement Import() {
    Statement statement = Simple(Statement::Kind::kImport, "", Next().line);
    while (true) {
      statement.names.push_back(DottedName());
      std::string alias;
      if (AtName("as")) {
        Next();
        alias = ExpectName();
      }
      statement.aliases.push_back(alias);
      if (!AtOp(",")) break;
      Next();
    }
    return statement;
  }

  Statement FromImport() {
    Statement statement = Simple(Statement::Kind::kFromImport, "", Next().line);
    std::string module;
    while (AtOp(".") || AtOp("...")) module += Next().text;  // relative imports
    if (!AtName("import")) module += DottedName();
    statement.text = module;
    if (!AtName("import")) Fail("expected 'import'");
    Next();
    const bool parenthesised = AtOp("(");
    if (parenthesised) Next();
    if (AtOp("*")) {
      Next();
      statement.names.push_back("*");
      statement.aliases.push_back("");
    } else {
      while (true) {
        statement.names.push_back(ExpectName());
        std::string alias;
        if (AtName("as")) {
          Next();
          alias = ExpectName();
        }
        statement.aliases.push_back(alias);
        if (!AtOp(",")) break;
        Next();
        if (parenthesised && AtOp(")")) break;
      }
    }
    if (parenthesised) ExpectOp(")");
    return statement;
  }

  // ':' followed by an indented block or simple statements on the same line.
  Block Suite(int* end_line) {
    const NestingGuard guard(this);
    ExpectOp(":");
    Block body;
    if (!AtKind(TokenKind::kNewline)) {
      SimpleStatements(&body);
      *end_line = tokens_[pos_ > 0 ? pos_ - 1 : 0].end_line;
      if (AtKind(TokenKind::kNewline)) Next();
      return body;
    }
    Next();
    if (!AtKind(TokenKind::kIndent)) Fail("expected an indented block");
    Next();
    while (!AtKind(TokenKind::kDedent) && !AtKind(TokenKind::kEnd)) {
      if (AtKind(TokenKind::kNewline)) {
        Next();
        continue;
      }
      if (AtKind(TokenKind::kIndent)) {
        body.push_back(UnparsedAt(Peek().line, "unexpected indentation"));
        SkipIndentedBlock();
        continue;
      }
      ParseStatementInto(&body);
    }
    *end_line = tokens_[pos_ > 0 ? pos_ - 1 : 0].end_line;
    if (AtKind(TokenKind::kDedent)) Next();
    return body;
  }

  Statement Def() {
    Statement statement = Simple(Statement::Kind::kDef, "", Next().line);
    statement.text = ExpectName();
    ExpectOp("(");
    int depth = 0;
    bool expect_name = true;
    while (!(depth == 0 && AtOp(")"))) {  // parameter names; defaults skipped
      if (AtKind(TokenKind::kEnd) || AtKind(TokenKind::kNewline)) Fail("unclosed '('");
      if (AtOp("(") || AtOp("[") || AtOp("{")) ++depth;
      if (AtOp(")") || AtOp("]") || AtOp("}")) --depth;
      if (depth == 0 && AtOp(",")) expect_name = true;
      if (depth == 0 && expect_name && AtKind(TokenKind::kName)) {
        statement.parameters.push_back(Peek().text);
        expect_name = false;
      }
      Next();
    }
    ExpectOp(")");
    if (AtOp("->")) {
      Next();
      Test();
    }
    statement.body = Suite(&statement.end_line);
    return statement;
  }

  Statement If() {
    Statement statement = Simple(Statement::Kind::kIf, "if", Next().line);
    statement.value = NamedTest();
    statement.body = Suite(&statement.end_line);
    if (AtName("elif")) {
      const NestingGuard guard(this);  // an elif chain nests in orelse
      Statement nested = If();         // parses "elif" like "if"
      statement.end_line = nested.end_line;
      statement.orelse.push_back(std::move(nested));
    } else if (AtName("else")) {
      Next();
      statement.orelse = Suite(&statement.end_line);
    }
    return statement;
  }

  // for / while / with / try / class: the header is skipped, the bodies parsed (so their
  // lines are known); the interpreter never runs them.
  Statement OtherCompound() {
    Statement statement = Simple(Statement::Kind::kOther, Peek().text, Peek().line);
    if (AtName("async")) Next();
    const std::set<std::string> continuations = {"else", "elif", "except", "finally"};
    while (true) {
      int depth = 0;
      while (!(depth == 0 && AtOp(":"))) {
        if (AtKind(TokenKind::kEnd) || AtKind(TokenKind::kNewline)) Fail("expected ':'");
        if (AtOp("(") || AtOp("[") || AtOp("{")) ++depth;
        if (AtOp(")") || AtOp("]") || AtOp("}")) --depth;
        Next();
      }
      Block body = Suite(&statement.end_line);
      for (Statement& inner : body) statement.body.push_back(std::move(inner));
      if (!AtKind(TokenKind::kName) || continuations.count(Peek().text) == 0) break;
    }
    return statement;
  }

  // ---- expressions ----
  ExprPtr Make(Expr::Kind kind, std::string text, size_t first_token, std::vector<ExprPtr> items,
               ExprPtr object = nullptr) {
    Expr expr;
    expr.kind = kind;
    expr.text = std::move(text);
    expr.items = std::move(items);
    expr.object = std::move(object);
    return Finish(std::move(expr), first_token);
  }

  // a, b, c (a tuple when there is a comma)
  ExprPtr TestList() {
    const size_t start = pos_;
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

  bool EndsTestList() const {
    return AtKind(TokenKind::kNewline) || AtKind(TokenKind::kEnd) || AtOp("=") || AtOp(")") ||
           AtOp("]") || AtOp("}") || AtOp(";") || AtOp(":") ||
           (AtKind(TokenKind::kOp) && Peek().text.size() >= 2 && Peek().text.back() == '=' &&
            Peek().text != "==" && Peek().text != "<=" && Peek().text != ">=" &&
            Peek().text != "!=");
  }

  ExprPtr StarOrTest() {
    if (AtOp("*") || AtOp("**")) {
      const size_t start = pos_;
      const std::string op = Next().text;
      return Make(Expr::Kind::kUnary, op, start, {Test()});
    }
    return Test();
  }

  ExprPtr NamedTest() {
    ExprPtr value = Test();
    if (AtOp(":=")) {
      Next();
      return Test();
    }
    return value;
  }

  ExprPtr Test() {
    const NestingGuard guard(this);
    const size_t start = pos_;
    if (AtName("lambda")) {
      Next();
      int depth = 0;
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

  ExprPtr OrTest() {
    const size_t start = pos_;
    ExprPtr left = AndTest();
    while (AtName("or")) {
      Next();
      left = Make(Expr::Kind::kBinary, "or", start, {left, AndTest()});
    }
    return left;
  }

  ExprPtr AndTest() {
    const size_t start = pos_;
    ExprPtr left = NotTest();
    while (AtName("and")) {
      Next();
      left = Make(Expr::Kind::kBinary, "and", start, {left, NotTest()});
    }
    return left;
  }

  ExprPtr NotTest() {
    const size_t start = pos_;
    if (AtName("not")) {
      Next();
      const NestingGuard guard(this);
      return Make(Expr::Kind::kUnary, "not", start, {NotTest()});
    }
    return Comparison();
  }

  ExprPtr Comparison() {
    const size_t start = pos_;
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
  ExprPtr Binary(size_t level) {
    static const std::vector<std::vector<std::string>> levels = {
        {"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"}};
    if (level == levels.size()) return Factor();
    const size_t start = pos_;
    ExprPtr left = Binary(level + 1);
    while (AtKind(TokenKind::kOp) && std::find(levels[level].begin(), levels[level].end(),
                                               Peek().text) != levels[level].end()) {
      const std::string op = Next().text;
      left = Make(Expr::Kind::kBinary, op, start, {left, Binary(level + 1)});
    }
    return left;
  }

  ExprPtr Factor() {
    const size_t start = pos_;
    if (AtOp("-") || AtOp("+") || AtOp("~")) {
      const std::string op = Next().text;
      const NestingGuard guard(this);
      return Make(Expr::Kind::kUnary, op, start, {Factor()});
    }
    return Power();
  }

  ExprPtr Power() {
    const size_t start = pos_;
    if (AtName("await")) Next();
    ExprPtr base = Primary();
    if (AtOp("**")) {
      Next();
      const NestingGuard guard(this);
      return Make(Expr::Kind::kBinary, "**", start, {base, Factor()});
    }
    return base;
  }

  ExprPtr Primary() {
    const size_t start = pos_;
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

  std::vector<Argument> Arguments() {
    std::vector<Argument> arguments;
    while (!AtOp(")")) {
      Argument argument;
      if (AtOp("*") || AtOp("**")) {
        argument.star = true;
        argument.keyword = Next().text;
        argument.value = Test();
      } else if (AtKind(TokenKind::kName) && Peek(1).kind == TokenKind::kOp &&
                 Peek(1).text == "=") {
        argument.keyword = Next().text;
        Next();
        argument.value = Test();
      } else {
        argument.value = NamedTest();
        if (AtName("for") || AtName("async")) {  // generator argument: f(x for x in y)
          SkipComprehension();
          argument.value = Make(Expr::Kind::kOpaque, "comprehension", pos_ - 1, {});
        }
      }
      arguments.push_back(std::move(argument));
      if (!AtOp(",")) break;
      Next();
    }
    return arguments;
  }

  ExprPtr SubscriptItem() {
    const size_t start = pos_;
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
  void SkipComprehension() {
    int depth = 0;
    while (!AtKind(TokenKind::kEnd)) {
      if (depth == 0 && (AtOp(")") || AtOp("]") || AtOp("}"))) return;
      if (AtOp("(") || AtOp("[") || AtOp("{")) ++depth;
      if (AtOp(")") || AtOp("]") || AtOp("}")) --depth;
      Next();
    }
  }

  // Items of a (...) [...] or {...} display up to `close`; a comprehension becomes kOpaque.
  std::vector<ExprPtr> DisplayItems(const std::string& close, bool* comprehension,
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

  ExprPtr Atom() {
    const size_t start = pos_;
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

  std::vector<Token> tokens_;
  const std::vector<std::string>& lines_;
  size_t pos_ = 0;
  int nesting_ = 0;  // NestingGuard levels now open
};

}  // namespace

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    begin = end + 1;
  }
  return lines;
}

Result<Block> ParsePython(const std::vector<Token>& tokens, const std::vector<std::string>& lines,
                          const std::string& source_name) {
  (void)source_name;  // statement-level problems travel as kUnparsed statements
  return Parser(tokens, lines).Module();
}

Result<ExprPtr> ParsePythonExpression(const std::string& text) {
  CB_ASSIGN_OR_RETURN(std::vector<Token> tokens, TokenizePython(text, "<expression>"));
  const std::vector<std::string> lines = SplitLines(text);
  try {
    return Parser(tokens, lines).SingleExpression();
  } catch (const SyntaxProblem& problem) {
    return Status::InvalidArgument("<expression>:" + std::to_string(problem.line) +
                                   ": Python syntax error: " + problem.what);
  }
}

}  // namespace cloudbook::keras_import
