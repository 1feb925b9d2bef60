// The Python subset reader of `cloudbook-maker import` (maker/keras_import/): tokens with
// their lines, comments kept for the #SKYNNET: markers, indentation, and the statements and
// expressions of SkyNNet-style programs.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "maker/keras_import/python_parser.h"
#include "maker/keras_import/python_tokenizer.h"

namespace cloudbook::keras_import {
namespace {

std::vector<Token> Tokens(const std::string& text) {
  auto tokens = TokenizePython(text, "t.py");
  EXPECT_TRUE(tokens.ok()) << tokens.status().ToString();
  return tokens.ok() ? *tokens : std::vector<Token>{};
}

Block Parse(const std::string& text) {
  auto tokens = TokenizePython(text, "t.py");
  EXPECT_TRUE(tokens.ok()) << tokens.status().ToString();
  auto block = ParsePython(*tokens, SplitLines(text), "t.py");
  EXPECT_TRUE(block.ok());
  return block.ok() ? *block : Block{};
}

TEST(KerasTokenizer, KeepsCommentsAndLinesAndJoinsBracketedLines) {
  const std::vector<Token> tokens = Tokens(
      "import tensorflow as tf\n"
      "\n"
      "#SKYNNET:BEGIN_MULTICLASS_ACC_LOSS\n"
      "model.compile(optimizer='adam',\n"
      "              loss=\"mse\")  # trailing\n");
  std::vector<std::string> comments;
  int newlines = 0;
  for (const Token& token : tokens) {
    if (token.kind == TokenKind::kComment)
      comments.push_back(token.text + "@" + std::to_string(token.line));
    if (token.kind == TokenKind::kNewline) ++newlines;
  }
  EXPECT_EQ(comments,
            (std::vector<std::string>{"#SKYNNET:BEGIN_MULTICLASS_ACC_LOSS@3", "# trailing@5"}));
  EXPECT_EQ(newlines, 2) << "the call spans two lines but is one logical line";
  const auto loss = std::find_if(tokens.begin(), tokens.end(), [](const Token& token) {
    return token.kind == TokenKind::kString && token.text == "mse";
  });
  ASSERT_NE(loss, tokens.end());
  EXPECT_EQ(loss->line, 5);
}

TEST(KerasTokenizer, IndentsDedentsAndNumbers) {
  const std::vector<Token> tokens = Tokens("def main():\n    x = 1e-3\n    y = 0x1F\nz = 1_000\n");
  std::vector<std::string> kinds;
  for (const Token& token : tokens) {
    if (token.kind == TokenKind::kIndent) kinds.push_back("INDENT");
    if (token.kind == TokenKind::kDedent) kinds.push_back("DEDENT");
    if (token.kind == TokenKind::kNumber) kinds.push_back(token.text);
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"INDENT", "1e-3", "0x1F", "DEDENT", "1_000"}));
}

TEST(KerasTokenizer, TripleQuotedStringsSpanLinesAndKeepLineNumbers) {
  const std::vector<Token> tokens = Tokens("'''doc\n#SKYNNET:END not a marker\n'''\nx = 1\n");
  for (const Token& token : tokens) EXPECT_NE(token.kind, TokenKind::kComment);
  EXPECT_EQ(tokens[0].kind, TokenKind::kString);
  const auto x = std::find_if(tokens.begin(), tokens.end(),
                              [](const Token& token) { return token.text == "x"; });
  ASSERT_NE(x, tokens.end());
  EXPECT_EQ(x->line, 4);
}

TEST(KerasTokenizer, UnclosedBracketsAndStringsAreErrorsWithTheirLine) {
  auto bracket = TokenizePython("x = 1\nmodel = Sequential([\n  Dense(3)\n", "p.py");
  ASSERT_FALSE(bracket.ok());
  EXPECT_EQ(bracket.status().message(), "p.py:2: Python syntax error: '(' is never closed");
  auto string = TokenizePython("x = 'abc\n", "p.py");
  ASSERT_FALSE(string.ok());
  EXPECT_NE(string.status().message().find("p.py:1:"), std::string::npos);
}

TEST(KerasParser, ExpressionsWithCallsAttributesSubscriptsAndArithmetic) {
  auto expr = ParsePythonExpression("tf.keras.layers.Dense(_NEURON_1, activation='relu')(x)");
  ASSERT_TRUE(expr.ok()) << expr.status().ToString();
  const Expr& outer = **expr;
  ASSERT_EQ(outer.kind, Expr::Kind::kCall);
  ASSERT_EQ(outer.object->kind, Expr::Kind::kCall);
  const Expr& dense = *outer.object;
  EXPECT_EQ(dense.object->kind, Expr::Kind::kAttribute);
  EXPECT_EQ(dense.object->text, "Dense");
  ASSERT_EQ(dense.arguments.size(), 2u);
  EXPECT_EQ(dense.arguments[1].keyword, "activation");
  EXPECT_EQ(dense.arguments[1].value->text, "relu");
  EXPECT_EQ(dense.source, "tf.keras.layers.Dense(_NEURON_1, activation='relu')");

  auto data = ParsePythonExpression("mnist.load_data()[0][1]");
  ASSERT_TRUE(data.ok());
  EXPECT_EQ((*data)->kind, Expr::Kind::kSubscript);

  auto arithmetic = ParsePythonExpression("-x.astype('float32') / 255 + 2 ** 3");
  ASSERT_TRUE(arithmetic.ok());
  EXPECT_EQ((*arithmetic)->kind, Expr::Kind::kBinary);
  EXPECT_EQ((*arithmetic)->text, "+");
  EXPECT_EQ((*arithmetic)->items[0]->text, "/");
  EXPECT_EQ((*arithmetic)->items[0]->items[0]->kind, Expr::Kind::kUnary);

  auto slice = ParsePythonExpression("x.shape[1:]");
  ASSERT_TRUE(slice.ok());
  EXPECT_EQ((*slice)->items[0]->kind, Expr::Kind::kSlice);

  auto tuple = ParsePythonExpression("(28,)");
  ASSERT_TRUE(tuple.ok());
  EXPECT_EQ((*tuple)->kind, Expr::Kind::kTuple);
  EXPECT_EQ((*tuple)->items.size(), 1u);

  EXPECT_FALSE(ParsePythonExpression("Dense(3,").ok());
}

TEST(KerasParser, StatementsOfSkynnetPrograms) {
  const Block block = Parse(
      "import tensorflow as tf, numpy as np\n"
      "from tensorflow.keras import layers, models\n"
      "(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()\n"
      "x_train /= 255\n"
      "def load_data(path):\n"
      "    global x_train\n"
      "    return path\n"
      "if __name__ == '__main__':\n"
      "    main()\n"
      "else:\n"
      "    pass\n"
      "for i in range(3): print(i)\n"
      "print(model.summary())\n");
  ASSERT_EQ(block.size(), 8u);
  EXPECT_EQ(block[0].kind, Statement::Kind::kImport);
  EXPECT_EQ(block[0].names, (std::vector<std::string>{"tensorflow", "numpy"}));
  EXPECT_EQ(block[0].aliases, (std::vector<std::string>{"tf", "np"}));
  EXPECT_EQ(block[1].kind, Statement::Kind::kFromImport);
  EXPECT_EQ(block[1].text, "tensorflow.keras");
  EXPECT_EQ(block[2].kind, Statement::Kind::kAssign);
  EXPECT_EQ(block[2].targets[0]->kind, Expr::Kind::kTuple);
  EXPECT_EQ(block[3].kind, Statement::Kind::kAugAssign);
  EXPECT_EQ(block[3].text, "/");
  EXPECT_EQ(block[4].kind, Statement::Kind::kDef);
  EXPECT_EQ(block[4].parameters, std::vector<std::string>{"path"});
  EXPECT_EQ(block[4].body.size(), 2u);
  EXPECT_EQ(block[4].end_line, 7);
  EXPECT_EQ(block[5].kind, Statement::Kind::kIf);
  EXPECT_EQ(block[5].orelse.size(), 1u);
  EXPECT_EQ(block[6].kind, Statement::Kind::kFor);
  EXPECT_EQ(block[6].targets[0]->source, "i");
  EXPECT_EQ(block[6].value->source, "range(3)");
  EXPECT_EQ(block[7].line, 13);
}

TEST(KerasParser, AnUnreadableStatementIsKeptWithItsReasonAndTheRestParses) {
  const Block block = Parse("x = 1\nprint 'python 2'\ny = [i for i in x]\nz = lambda a: a\n");
  ASSERT_EQ(block.size(), 4u);
  EXPECT_EQ(block[1].kind, Statement::Kind::kUnparsed);
  EXPECT_EQ(block[1].line, 2);
  EXPECT_EQ(block[1].source, "print 'python 2'");
  EXPECT_EQ(block[2].kind, Statement::Kind::kAssign);
  EXPECT_EQ(block[2].value->kind, Expr::Kind::kOpaque);
  EXPECT_EQ(block[3].value->kind, Expr::Kind::kOpaque);
}

}  // namespace
}  // namespace cloudbook::keras_import
