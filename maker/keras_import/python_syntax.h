// The syntax tree of the Python subset (maker/keras_import/python_parser.h builds it): the
// expressions and statements SkyNNet-style Keras programs contain. Plain data; every node
// keeps its 1-based line for messages.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace cloudbook::keras_import {

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Argument {
  std::string keyword;  // empty: positional
  ExprPtr value;
  bool star = false;  // *args or **kwargs (never understood, kept for the message)
};

struct Expr {
  enum class Kind {
    kName,       // text
    kNumber,     // text as written
    kString,     // text decoded; adjacent literals joined
    kAttribute,  // object.text
    kCall,       // callee(arguments)
    kSubscript,  // object[items...] (several items: a[1, 2])
    kSlice,      // items: lower, upper, step (null when absent)
    kList,       // [items]
    kTuple,      // (items) or a, b
    kDict,       // {items[0]: items[1], ...}
    kBinary,     // items[0] text items[1]: + - * / // % ** @ & | ^ << >> and or
    kUnary,      // text items[0]: - + ~ not
    kCompare,    // items[0] text items[1] (chains fold left)
    kIfElse,     // items: body, condition, orelse
    kOpaque,     // something understood only well enough to skip: lambda, comprehension
  };
  Kind kind = Kind::kName;
  std::string text;
  ExprPtr object;  // kAttribute, kCall (callee), kSubscript
  std::vector<ExprPtr> items;
  std::vector<Argument> arguments;  // kCall
  int line = 0;
  int depth = 1;       // nodes on the longest path down (the parser bounds it)
  std::string source;  // the expression as written (one line, for messages; long ones cut)
};

struct Statement;
using Block = std::vector<Statement>;

struct Statement {
  enum class Kind {
    kExpression,  // value
    kAssign,      // targets[...] = value (a = b = c gives two targets)
    kAugAssign,   // targets[0] op= value; op in text
    kImport,      // import a.b as c, d: names = {a.b, d}, aliases = {c, ""}
    kFromImport,  // from module import a as b: text = module
    kDef,         // def text(parameters): body
    kIf,          // if value: body  elif/else: orelse (an elif is an kIf inside orelse)
    kFor,         // for targets[0] in value: body  else: orelse
    kClass,       // class text(targets...): body (targets: the base classes)
    kGlobal,      // global names
    kReturn,      // return value (may be null)
    kPass,        // pass, break, continue
    kOther,       // while, with, try, del, assert, raise, ...: text = keyword
    kUnparsed,    // a line the parser could not read: text = the reason
  };
  Kind kind = Kind::kPass;
  std::string text;
  std::vector<ExprPtr> targets;
  ExprPtr value;
  std::vector<std::string> names;
  std::vector<std::string> aliases;
  std::vector<std::string> parameters;  // kDef: the named parameters (not *args / **kwargs)
  std::vector<ExprPtr> defaults;        // kDef: per parameter, its default (null: none)
  Block body;
  Block orelse;
  int line = 0;
  int end_line = 0;    // last line of the statement (of its body for compound statements)
  std::string source;  // the first line as written, for messages
};

}  // namespace cloudbook::keras_import
