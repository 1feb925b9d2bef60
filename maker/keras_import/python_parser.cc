#include "maker/keras_import/python_parser.h"

#include <algorithm>
#include <set>
#include <utility>

#include "maker/keras_import/python_expression_parser.h"

namespace cloudbook::keras_import {
namespace {

const std::set<std::string>& CompoundKeywords() {
  static const auto* words = new std::set<std::string>{"while", "with", "try", "async"};
  return *words;
}

const std::set<std::string>& SimpleKeywords() {
  static const auto* words =
      new std::set<std::string>{"del", "assert", "raise", "nonlocal", "yield", "await"};
  return *words;
}

// The statement grammar over the expression parser: simple statements, imports, def, if and
// the compound statements it only skips; each unreadable statement becomes kUnparsed.
class StatementParser : public ExpressionParser {
 public:
  using ExpressionParser::ExpressionParser;

  Block Module() {
    Block block;
    while (!AtKind(TokenKind::kEnd)) {
      if (AtKind(TokenKind::kDedent) || AtKind(TokenKind::kNewline)) {
        Next();
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

 private:
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
        Next();
        return;
      }
      Next();
    }
  }

  // Skips the rest of a logical line that failed, and the block under it if any.
  void Recover() {
    while (!AtKind(TokenKind::kEnd) && !AtKind(TokenKind::kNewline)) Next();
    if (AtKind(TokenKind::kNewline)) Next();
    if (AtKind(TokenKind::kIndent)) SkipIndentedBlock();
  }

  // ---- statements ----
  void ParseStatementInto(Block* block) {
    const size_t start = Position();
    const size_t parsed = block->size();
    const int line = Peek().line;
    try {
      ParseStatement(block);
    } catch (const SyntaxProblem& problem) {
      block->resize(parsed);  // drop the part of the line read before the problem
      Rewind(start);
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
      if (head.text == "for") return block->push_back(For());
      if (head.text == "class") return block->push_back(Class());
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
      statement.end_line = std::max(statement.line, Previous().end_line);
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

  // The name after "as" in an import, or "" when there is none.
  std::string Alias() {
    if (!AtName("as")) return "";
    Next();
    return ExpectName();
  }

  Statement Import() {
    Statement statement = Simple(Statement::Kind::kImport, "", Next().line);
    while (true) {
      statement.names.push_back(DottedName());
      statement.aliases.push_back(Alias());
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
        statement.aliases.push_back(Alias());
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
      *end_line = Previous().end_line;
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
    // The last statement's end, not the last token's: comment lines after the block (a
    // #SKYNNET marker at column 0) come before its DEDENT but are not part of it.
    *end_line = body.empty() ? Previous().end_line : body.back().end_line;
    if (AtKind(TokenKind::kDedent)) Next();
    return body;
  }

  Statement Def() {
    Statement statement = Simple(Statement::Kind::kDef, "", Next().line);
    statement.text = ExpectName();
    ExpectOp("(");
    while (!AtOp(")")) {  // [*|**]name [: annotation] [= default], ...; a bare * or /
      if (AtKind(TokenKind::kEnd) || AtKind(TokenKind::kNewline)) Fail("unclosed '('");
      bool star = false;
      if (AtOp("*") || AtOp("**") || AtOp("/")) {
        star = true;
        Next();
      }
      if (AtKind(TokenKind::kName)) {
        const std::string name = Next().text;
        if (AtOp(":")) {
          Next();
          Test();
        }
        ExprPtr value;
        if (AtOp("=")) {
          Next();
          value = Test();
        }
        if (!star) {
          statement.parameters.push_back(name);
          statement.defaults.push_back(value);
        }
      }
      if (!AtOp(",")) break;
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

  // for target in iterable: body [else: orelse]
  Statement For() {
    Statement statement = Simple(Statement::Kind::kFor, "for", Next().line);
    statement.targets.push_back(TargetList());
    if (!AtName("in")) Fail("expected 'in'");
    Next();
    statement.value = TestList();
    statement.body = Suite(&statement.end_line);
    if (AtName("else")) {
      Next();
      statement.orelse = Suite(&statement.end_line);
    }
    return statement;
  }

  // class Name(bases...): body (keyword arguments such as metaclass= are dropped)
  Statement Class() {
    Statement statement = Simple(Statement::Kind::kClass, "class", Next().line);
    statement.text = ExpectName();
    if (AtOp("(")) {
      Next();
      while (!AtOp(")")) {
        if (AtKind(TokenKind::kName) && Peek(1).text == "=") {
          Next();
          Next();
          Test();
        } else {
          statement.targets.push_back(Test());
        }
        if (!AtOp(",")) break;
        Next();
      }
      ExpectOp(")");
    }
    statement.body = Suite(&statement.end_line);
    return statement;
  }

  // while / with / try: the header is skipped, the bodies parsed (so their
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
  return StatementParser(tokens, lines).Module();
}

Result<ExprPtr> ParsePythonExpression(const std::string& text) {
  CB_ASSIGN_OR_RETURN(std::vector<Token> tokens, TokenizePython(text, "<expression>"));
  const std::vector<std::string> lines = SplitLines(text);
  try {
    return ExpressionParser(tokens, lines).SingleExpression();
  } catch (const SyntaxProblem& problem) {
    return Status::InvalidArgument("<expression>:" + std::to_string(problem.line) +
                                   ": Python syntax error: " + problem.what);
  }
}

}  // namespace cloudbook::keras_import
