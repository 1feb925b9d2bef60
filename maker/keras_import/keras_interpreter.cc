#include "maker/keras_import/keras_interpreter.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>

#include "maker/keras_import/keras_layers.h"
#include "maker/keras_import/keras_value.h"
#include "maker/keras_import/tagged_names.h"

namespace cloudbook::keras_import {
namespace {

constexpr int kMaxCallDepth = 16;

// "tensorflow.keras.layers.Dense" and "tf_keras.layers.Dense" are "keras.layers.Dense".
std::string Canonical(const std::string& path) {
  static const std::vector<std::string> prefixes = {"tensorflow.python.keras",
                                                    "tensorflow.compat.v2.keras",
                                                    "tensorflow.keras", "tf_keras", "keras.src"};
  for (const std::string& prefix : prefixes) {
    if (path == prefix) return "keras";
    if (path.rfind(prefix + ".", 0) == 0) return "keras" + path.substr(prefix.size());
  }
  return path;
}

std::string LastPart(const std::string& path) { return path.substr(path.rfind('.') + 1); }

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

int64_t Product(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
}

// The IDX files that stand for a Keras data set, in the layout of configs/fashion_mlp.
std::string DatasetFile(const std::string& dataset, bool train, bool labels) {
  const std::string folder = dataset == "fashion_mnist" ? "fashion-mnist" : "mnist";
  const std::string stem = std::string(train ? "train" : "t10k") +
                           (labels ? "-labels-idx1-ubyte.gz" : "-images-idx3-ubyte.gz");
  return folder + "/" + stem;
}

// Names a statement binds (for messages about code the importer skipped).
void BoundNames(const Expr& target, std::vector<std::string>* names) {
  if (target.kind == Expr::Kind::kName) names->push_back(target.text);
  if (target.kind == Expr::Kind::kTuple || target.kind == Expr::Kind::kList) {
    for (const ExprPtr& item : target.items) {
      if (item) BoundNames(*item, names);
    }
  }
}

struct TaggedVar {
  int64_t value = 0;
  int line = 0;
};

struct Frame {
  std::map<std::string, Value> locals;
  std::set<std::string> global_names;
};

class Interpreter {
 public:
  Interpreter(const SkynnetBlock& block, const std::string& source, const std::string& name)
      : block_(block), source_(source), name_(name) {}

  Result<InterpretedProgram> Run(const Block& module) {
    CB_RETURN_IF_ERROR(ExecBlock(module));
    // cloudbook (like the original) calls main() when the program defines it and nothing did.
    const auto main = globals_.find("main");
    if (main != globals_.end() && main->second.is(Value::Kind::kFunction) &&
        called_.count("main") == 0 && !block_ran_) {
      CB_ASSIGN_OR_RETURN(Value ignored, CallFunction(main->second, {}, main->second.line));
      (void)ignored;
    }
    if (!block_ran_) {
      return Error(block_.begin_line,
                   "the SKYNNET block never runs: it is inside a function or a statement that "
                   "nothing runs (functions run when called; main() is called when defined)");
    }
    return Assemble();
  }

 private:
  // ---- messages ----
  Status Error(int line, const std::string& what) const {
    return Status::InvalidArgument(source_ + ":" + std::to_string(line) + ": " + what);
  }
  void Warn(int line, const std::string& what) {
    warnings_.push_back(source_ + ":" + std::to_string(line) + ": " + what);
  }
  void Note(int line, const std::string& what) {
    notes_.push_back(source_ + ":" + std::to_string(line) + ": " + what);
  }
  bool Strict() const { return strict_depth_ > 0; }

  // ---- variables ----
  void Bind(const std::string& name, Value value) {
    if (!frames_.empty() && frames_.back().global_names.count(name) == 0) {
      frames_.back().locals[name] = std::move(value);
    } else {
      globals_[name] = std::move(value);
    }
  }

  Value Lookup(const std::string& name, int line) const {
    if (!frames_.empty()) {
      const auto local = frames_.back().locals.find(name);
      if (local != frames_.back().locals.end()) return local->second;
    }
    const auto global = globals_.find(name);
    if (global != globals_.end()) return global->second;
    if (name == "True" || name == "False") {
      Value value;
      value.kind = Value::Kind::kBool;
      value.number = name == "True" ? 1 : 0;
      return value;
    }
    if (name == "None") return Value();
    if (name == "__name__") return Value::String("__main__");
    static const std::set<std::string> builtins = {"print", "len",  "int",   "float", "open",
                                                   "range", "list", "tuple", "str",   "round",
                                                   "min",   "max",  "abs",   "sum",   "type"};
    if (builtins.count(name) > 0) return Value::Module("builtins." + name);
    for (const std::string& module : star_modules_) {
      if (Canonical(module) == "keras.layers" && IsSupportedLayer(name)) {
        return Value::Module(module + "." + name);
      }
      if ((Canonical(module) == "keras" || Canonical(module) == "keras.models") &&
          (name == "Sequential" || name == "Model" || name == "Input")) {
        return Value::Module(module + "." + name);
      }
    }
    const auto skipped = skipped_.find(name);
    if (skipped != skipped_.end()) {
      return Value::Unknown("'" + name + "' is set by the '" + skipped->second.second +
                                "' statement at line " + std::to_string(skipped->second.first) +
                                ", which the importer does not run",
                            line, name);
    }
    return Value::Unknown("'" + name + "' is not defined at this point", line, name);
  }

  // ---- statements ----
  Status ExecBlock(const Block& statements) {
    for (const Statement& statement : statements) {
      CB_RETURN_IF_ERROR(Exec(statement));
      if (returning_) break;
    }
    return Status::Ok();
  }

  Status Exec(const Statement& statement) {
    const bool in_block = block_.Contains(statement.line);
    if (in_block) {
      block_ran_ = true;
      ++strict_depth_;
    }
    Status status = AtLine(ExecInContext(statement), statement.line);
    if (in_block) --strict_depth_;
    return status;
  }

  void RecordSkipped(const Statement& statement, const std::string& keyword) {
    for (const ExprPtr& target : statement.targets) {
      std::vector<std::string> names;
      BoundNames(*target, &names);
      for (const std::string& name : names) skipped_[name] = {statement.line, keyword};
    }
    if (statement.kind == Statement::Kind::kDef) {
      skipped_[statement.text] = {statement.line, keyword};
    }
    for (const Statement& inner : statement.body) RecordSkipped(inner, keyword);
    for (const Statement& inner : statement.orelse) RecordSkipped(inner, keyword);
  }

  // Whether a statement of the block lies in this statement's lines.
  bool ContainsBlock(const Statement& statement) const {
    return statement.line < block_.end_line && statement.end_line > block_.begin_line;
  }

  Status ExecInContext(const Statement& statement) {
    const int line = statement.line;
    switch (statement.kind) {
      case Statement::Kind::kUnparsed:
        if (Strict()) {
          return Error(line, "cannot read '" + statement.source + "' (" + statement.text +
                                 "); the SKYNNET block may hold only the Python the importer "
                                 "understands (docs/keras-import.md)");
        }
        Note(line, "skipped (unreadable: " + statement.text + "): " + statement.source);
        return Status::Ok();
      case Statement::Kind::kImport:
        for (size_t i = 0; i < statement.names.size(); ++i) {
          const std::string& module = statement.names[i];
          if (!statement.aliases[i].empty()) {
            Bind(statement.aliases[i], Value::Module(module));
          } else {
            Bind(module.substr(0, module.find('.')),
                 Value::Module(module.substr(0, module.find('.'))));
          }
        }
        return Status::Ok();
      case Statement::Kind::kFromImport:
        for (size_t i = 0; i < statement.names.size(); ++i) {
          if (statement.names[i] == "*") {
            star_modules_.push_back(statement.text);
            continue;
          }
          const std::string bound =
              statement.aliases[i].empty() ? statement.names[i] : statement.aliases[i];
          Bind(bound, Value::Module(statement.text + "." + statement.names[i]));
        }
        return Status::Ok();
      case Statement::Kind::kGlobal:
        if (!frames_.empty()) {
          for (const std::string& name : statement.names) frames_.back().global_names.insert(name);
        }
        return Status::Ok();
      case Statement::Kind::kPass:
        return Status::Ok();
      case Statement::Kind::kReturn: {
        Value value;
        if (statement.value) value = EvalTolerant(*statement.value);
        return_value_ = value;
        returning_ = true;
        return Status::Ok();
      }
      case Statement::Kind::kDef: {
        Value function;
        function.kind = Value::Kind::kFunction;
        function.text = statement.text;
        function.function = &statement;
        function.line = line;
        Bind(statement.text, function);
        return Status::Ok();
      }
      case Statement::Kind::kIf:
        return ExecIf(statement);
      case Statement::Kind::kOther:
        if (Strict()) {
          return Error(line, "a '" + statement.text +
                                 "' statement inside the SKYNNET block: the importer reads "
                                 "straight-line code only (assignments and calls); move it "
                                 "after #SKYNNET:END or write the code without it");
        }
        if (ContainsBlock(statement)) {
          return Error(line, "the SKYNNET block is inside a '" + statement.text +
                                 "' statement, which the importer does not run; put the block "
                                 "at the top level of the program or of a function");
        }
        RecordSkipped(statement, statement.text);
        Note(line, "skipped a '" + statement.text + "' statement: " + statement.source);
        return Status::Ok();
      case Statement::Kind::kAssign:
        return ExecAssign(statement);
      case Statement::Kind::kAugAssign: {
        Expr binary;
        binary.kind = Expr::Kind::kBinary;
        binary.text = statement.text;
        binary.items = {statement.targets[0], statement.value};
        binary.line = line;
        binary.source = statement.source;
        Value value;
        if (Strict()) {
          CB_ASSIGN_OR_RETURN(value, Eval(binary));
        } else {
          value = EvalTolerant(binary);
        }
        return AssignTarget(*statement.targets[0], value, line);
      }
      case Statement::Kind::kExpression:
        return ExecExpression(statement);
    }
    return Status::Ok();
  }

  Status ExecIf(const Statement& statement) {
    const Expr& condition = *statement.value;
    const bool main_guard =
        condition.kind == Expr::Kind::kCompare && condition.text == "==" &&
        ((condition.items[0]->kind == Expr::Kind::kName &&
          condition.items[0]->text == "__name__") ||
         (condition.items[1]->kind == Expr::Kind::kName && condition.items[1]->text == "__name__"));
    if (main_guard) return ExecBlock(statement.body);
    if (Strict()) {
      return Error(statement.line,
                   "an 'if' inside the SKYNNET block: the importer cannot tell which branch "
                   "the network takes; remove the condition (cloudbook loads the data itself, "
                   "so guards like 'if x_train is None' are not needed)");
    }
    if (ContainsBlock(statement)) {
      return Error(statement.line,
                   "the SKYNNET block is inside an 'if' the importer does not run (only "
                   "'if __name__ == \"__main__\":' is run); move the block out of it");
    }
    RecordSkipped(statement, "if");
    Note(statement.line, "skipped an 'if' statement: " + statement.source);
    return Status::Ok();
  }

  Value EvalTolerant(const Expr& expr) {
    auto value = Eval(expr);
    if (value.ok()) return *value;
    // Keep the reason without the file prefix (added again where the value is used).
    std::string why = value.status().message();
    if (StartsWith(why, source_ + ":")) why = why.substr(why.find(": ", source_.size()) + 2);
    return Value::Unknown(why, expr.line, expr.source);
  }

  static bool IsLiteralNumber(const Expr& expr) {
    if (expr.kind == Expr::Kind::kNumber) return true;
    return expr.kind == Expr::Kind::kUnary && (expr.text == "-" || expr.text == "+") &&
           expr.items[0]->kind == Expr::Kind::kNumber;
  }

  Status ExecAssign(const Statement& statement) {
    const int line = statement.line;
    Value value;
    if (Strict()) {
      CB_ASSIGN_OR_RETURN(value, Eval(*statement.value));
    } else {
      value = EvalTolerant(*statement.value);
    }
    for (const ExprPtr& target : statement.targets) {
      if (target->kind == Expr::Kind::kName) {
        CB_RETURN_IF_ERROR(CheckSpecialName(target->text, *statement.value, &value, line));
      }
      CB_RETURN_IF_ERROR(AssignTarget(*target, value, line));
    }
    return Status::Ok();
  }

  // Tagged variables get their value recorded (and a tag on the number); misspelt ones a
  // warning saying what sk_tool would have done.
  Status CheckSpecialName(const std::string& name, const Expr& rhs, Value* value, int line) {
    const NameCheck check = CheckName(name);
    const bool in_block = Strict();
    if (check.role == NameRole::kData) {
      data_lines_[name] = line;
      data_values_[name] = *value;
      return Status::Ok();
    }
    if (check.role == NameRole::kMisspelt) {
      if (!warned_names_.insert(name).second) return Status::Ok();
      std::string what = "'" + name + "' is not a tagged name";
      if (!check.why.empty()) what += " (" + check.why + ")";
      what += "; did you mean '" + check.suggestion + "'? ";
      const bool data_like = StartsWith(check.suggestion, "_DATA_");
      if (data_like) {
        what +=
            "The original sk_tool did not recognise it either, so it would not have split "
            "these data between the subnets. cloudbook takes the data from what fit and "
            "predict receive.";
      } else if (!check.original_reading.empty()) {
        what += "The original sk_tool read it as " + check.original_reading +
                " and divided it by F; cloudbook's format needs the exact name, so it is "
                "imported as a plain number, never reduced. Rename it to '" +
                check.original_reading + "' to have it divided by F.";
      } else {
        std::string number;
        if (value->is(Value::Kind::kNumber)) {
          std::ostringstream out;
          out << value->number;
          number = " (" + out.str() + ")";
        }
        what += "The original sk_tool did not recognise it, so it kept its value" + number +
                " in every subnet; it is imported the same way, as a plain number that is "
                "never divided by F. Rename it to '" +
                check.suggestion + "' to have it reduced.";
      }
      Warn(line, what);
      return Status::Ok();
    }
    if (check.role != NameRole::kTagged) return Status::Ok();
    if (!value->is(Value::Kind::kNumber) || value->number != std::floor(value->number) ||
        value->number < 1) {
      const std::string why = "the tagged variable " + name +
                              " must be a whole number >= 1 (a width or the epochs); got " +
                              Describe(*value) + UnknownReason(*value);
      if (in_block) return Error(line, why);
      Warn(line, why + "; ignored");
      return Status::Ok();
    }
    const int64_t number = static_cast<int64_t>(value->number);
    if (!IsLiteralNumber(rhs)) {
      Warn(line, name + " is assigned an expression ('" + rhs.source +
                     "'): the original sk_tool read only a plain number here and stopped with "
                     "an error on this line (it divides the literal by F); cloudbook uses its "
                     "value, " +
                     std::to_string(number) + ", and divides that by F");
    }
    if (!in_block) {
      Warn(line, name +
                     " is assigned outside the SKYNNET block: the original sk_tool reduced "
                     "only tagged variables inside the block, so it would have kept " +
                     std::to_string(number) +
                     " in every subnet; cloudbook reduces it like the others (move it into "
                     "the block to keep both tools in step)");
    }
    vars_[name] = {number, line};
    *value = Value::Number(static_cast<double>(number), true);
    value->tag = name;
    return Status::Ok();
  }

  Status AssignTarget(const Expr& target, const Value& value, int line) {
    switch (target.kind) {
      case Expr::Kind::kName:
        Bind(target.text, value);
        return Status::Ok();
      case Expr::Kind::kTuple:
      case Expr::Kind::kList: {
        if (value.is(Value::Kind::kSequence) && value.items.size() == target.items.size()) {
          for (size_t i = 0; i < target.items.size(); ++i) {
            CB_RETURN_IF_ERROR(AssignTarget(*target.items[i], value.items[i], line));
          }
          return Status::Ok();
        }
        std::string why = value.is(Value::Kind::kUnknown)
                              ? value.text
                              : "'" + target.source + "' unpacks " + Describe(value);
        if (value.is(Value::Kind::kSequence)) {
          why = "'" + target.source + "' unpacks " + std::to_string(target.items.size()) +
                " names from " + std::to_string(value.items.size()) + " values";
          if (Strict()) return Error(line, why);
        }
        for (const ExprPtr& item : target.items) {
          CB_RETURN_IF_ERROR(AssignTarget(*item, Value::Unknown(why, line, target.source), line));
        }
        return Status::Ok();
      }
      default:
        if (Strict()) {
          return Error(line, "cannot assign to '" + target.source +
                                 "' inside the SKYNNET block; assign to plain names");
        }
        Note(line, "skipped the assignment to " + target.source);
        return Status::Ok();
    }
  }

  Status ExecExpression(const Statement& statement) {
    const Expr& expr = *statement.value;
    const int line = statement.line;
    if (expr.kind == Expr::Kind::kString || expr.kind == Expr::Kind::kNumber) {
      return Status::Ok();  // docstrings
    }
    if (expr.kind != Expr::Kind::kCall) {
      if (Strict()) {
        return Error(line, "'" + expr.source +
                               "' does nothing the importer understands inside the SKYNNET "
                               "block; remove it or move it after #SKYNNET:END");
      }
      Note(line, "skipped: " + statement.source);
      return Status::Ok();
    }
    const Value callee = EvalTolerant(*expr.object);
    const bool model_method =
        callee.is(Value::Kind::kMethod) && callee.items[0].is(Value::Kind::kModel);
    const bool user_function = callee.is(Value::Kind::kFunction);
    const std::string path = callee.is(Value::Kind::kModule) ? Canonical(callee.text) : "";
    const bool ignorable = path == "builtins.print" || LastPart(path) == "set_seed" ||
                           LastPart(path) == "set_random_seed" || path == "numpy.random.seed" ||
                           path == "random.seed" || path == "keras.backend.clear_session";
    if (!Strict()) {
      if (user_function) {  // arguments tolerantly: only the function's body may fail
        std::vector<Value> arguments;
        for (const Argument& argument : expr.arguments) {
          if (argument.keyword.empty()) arguments.push_back(EvalTolerant(*argument.value));
        }
        CB_ASSIGN_OR_RETURN(Value ignored, CallFunction(callee, arguments, line));
        (void)ignored;
        return Status::Ok();
      }
      if (model_method &&
          (callee.text == "fit" || callee.text == "compile" || callee.text == "add")) {
        Warn(line, "'" + expr.source +
                       "' is outside the SKYNNET block and is ignored: only the block's "
                       "model, compile and fit are imported");
      } else {
        Note(line, "skipped: " + statement.source);
      }
      return Status::Ok();
    }
    if (model_method || user_function || ignorable) {
      if (ignorable) {
        Note(line, "ignored: " + statement.source);
        return Status::Ok();
      }
      CB_ASSIGN_OR_RETURN(Value ignored, Eval(expr));
      (void)ignored;
      return Status::Ok();
    }
    if (callee.is(Value::Kind::kMethod) && callee.items[0].is(Value::Kind::kUnknown)) {
      return Error(line, "'" + expr.source + "': '" + expr.object->object->source +
                             "' is not a Keras model the importer can follow" +
                             UnknownReason(callee.items[0]));
    }
    return Error(line, "'" + expr.source +
                           "': the importer does not know what this does inside the SKYNNET "
                           "block; move it after #SKYNNET:END (outside the block, code that "
                           "does not build or train the network is ignored)");
  }

  // ---- expressions ----
  Result<Value> Eval(const Expr& expr) {
    switch (expr.kind) {
      case Expr::Kind::kName:
        return Lookup(expr.text, expr.line);
      case Expr::Kind::kNumber:
        return ParseNumber(expr);
      case Expr::Kind::kString:
        return Value::String(expr.text);
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        std::vector<Value> items;
        for (const ExprPtr& item : expr.items) {
          CB_ASSIGN_OR_RETURN(Value value, Eval(*item));
          items.push_back(std::move(value));
        }
        return Value::Sequence(std::move(items), expr.kind == Expr::Kind::kList);
      }
      case Expr::Kind::kAttribute: {
        CB_ASSIGN_OR_RETURN(Value object, Eval(*expr.object));
        return Attribute(object, expr);
      }
      case Expr::Kind::kCall:
        return EvalCall(expr);
      case Expr::Kind::kSubscript:
        return EvalSubscript(expr);
      case Expr::Kind::kBinary: {
        CB_ASSIGN_OR_RETURN(Value left, Eval(*expr.items[0]));
        CB_ASSIGN_OR_RETURN(Value right, Eval(*expr.items[1]));
        return Binary(expr, left, right);
      }
      case Expr::Kind::kUnary: {
        CB_ASSIGN_OR_RETURN(Value operand, Eval(*expr.items[0]));
        if (operand.is(Value::Kind::kNumber) && (expr.text == "-" || expr.text == "+")) {
          Value result =
              Value::Number(expr.text == "-" ? -operand.number : operand.number, operand.integer);
          result.derived_tag = operand.tag.empty() ? operand.derived_tag : operand.tag;
          return result;
        }
        if (expr.text == "not" &&
            (operand.is(Value::Kind::kBool) || operand.is(Value::Kind::kNone))) {
          Value result;
          result.kind = Value::Kind::kBool;
          result.number = operand.number != 0 ? 0 : 1;
          return result;
        }
        return Value::Unknown("'" + expr.source + "' is not followed", expr.line, expr.source);
      }
      case Expr::Kind::kCompare:
      case Expr::Kind::kIfElse:
      case Expr::Kind::kDict:
      case Expr::Kind::kSlice:
      case Expr::Kind::kOpaque:
        return Value::Unknown("'" + expr.source + "' is not followed by the importer", expr.line,
                              expr.source);
    }
    return Value::Unknown("'" + expr.source + "'", expr.line, expr.source);
  }

  Result<Value> ParseNumber(const Expr& expr) {
    std::string text;
    for (char c : expr.text) {
      if (c != '_') text += c;
    }
    try {
      const bool is_float = text.find_first_of(".eEjJ") != std::string::npos &&
                            !(text.size() > 1 && (text[1] == 'x' || text[1] == 'X'));
      if (!is_float) return Value::Number(static_cast<double>(std::stoll(text, nullptr, 0)), true);
      return Value::Number(std::stod(text), false);
    } catch (const std::exception&) {
      return Value::Unknown("the number '" + expr.text + "'", expr.line, expr.source);
    }
  }

  Result<Value> Attribute(const Value& object, const Expr& expr) {
    const std::string& name = expr.text;
    if (object.is(Value::Kind::kModule)) return Value::Module(object.text + "." + name);
    if (object.is(Value::Kind::kUnknown)) return object;
    if (object.is(Value::Kind::kArray) && name == "shape") {
      if (object.array->sample_shape.empty()) {
        return Value::Unknown(
            "the shape of data loaded from a file is not known before it is "
            "read",
            expr.line, expr.source);
      }
      std::vector<Value> dims;
      Value count;
      count.kind = Value::Kind::kSampleCount;
      dims.push_back(count);
      for (int64_t dim : object.array->sample_shape) {
        dims.push_back(Value::Number(static_cast<double>(dim), true));
      }
      return Value::Sequence(std::move(dims), false);
    }
    Value method;
    method.kind = Value::Kind::kMethod;
    method.text = name;
    method.items.push_back(object);
    method.line = expr.line;
    method.source = expr.source;
    return method;
  }

  Result<Value> EvalSubscript(const Expr& expr) {
    CB_ASSIGN_OR_RETURN(Value object, Eval(*expr.object));
    if (object.is(Value::Kind::kUnknown)) return object;
    if (expr.items.size() != 1) {
      return Value::Unknown("'" + expr.source + "' (multi-axis indexing) is not followed",
                            expr.line, expr.source);
    }
    const Expr& index = *expr.items[0];
    if (object.is(Value::Kind::kArray)) {
      return Value::Unknown(
          "'" + expr.source +
              "' takes a part of the data, which the program format cannot express; use the "
              "whole split (and --train-limit / --test-limit for quick runs)",
          expr.line, expr.source);
    }
    if (!object.is(Value::Kind::kSequence)) {
      return Value::Unknown("'" + expr.source + "' is not followed", expr.line, expr.source);
    }
    const int64_t size = static_cast<int64_t>(object.items.size());
    auto bound = [&](const ExprPtr& part, int64_t fallback) -> Result<int64_t> {
      if (!part) return fallback;
      CB_ASSIGN_OR_RETURN(Value value, Eval(*part));
      CB_ASSIGN_OR_RETURN(int64_t at, WholeNumber(value, "the index in '" + expr.source + "'"));
      if (at < 0) at += size;
      return std::clamp<int64_t>(at, 0, size);
    };
    if (index.kind == Expr::Kind::kSlice) {
      if (index.items[2]) {
        return Value::Unknown("'" + expr.source + "' (a slice with a step)", expr.line,
                              expr.source);
      }
      CB_ASSIGN_OR_RETURN(int64_t begin, bound(index.items[0], 0));
      CB_ASSIGN_OR_RETURN(int64_t end, bound(index.items[1], size));
      std::vector<Value> items;
      for (int64_t i = begin; i < end; ++i) items.push_back(object.items[static_cast<size_t>(i)]);
      return Value::Sequence(std::move(items), object.is_list);
    }
    CB_ASSIGN_OR_RETURN(Value at_value, Eval(index));
    CB_ASSIGN_OR_RETURN(int64_t at, WholeNumber(at_value, "the index in '" + expr.source + "'"));
    if (at < 0) at += size;
    if (at < 0 || at >= size) {
      return Status::InvalidArgument("'" + expr.source + "': index out of range");
    }
    return object.items[static_cast<size_t>(at)];
  }

  Result<Value> Binary(const Expr& expr, const Value& left, const Value& right) {
    const std::string& op = expr.text;
    if (left.is(Value::Kind::kNumber) && right.is(Value::Kind::kNumber)) {
      const double a = left.number;
      const double b = right.number;
      const bool integers = left.integer && right.integer;
      Value result;
      if (op == "+") {
        result = Value::Number(a + b, integers);
      } else if (op == "-") {
        result = Value::Number(a - b, integers);
      } else if (op == "*") {
        result = Value::Number(a * b, integers);
      } else if (op == "/" && b != 0) {
        result = Value::Number(a / b, false);
      } else if (op == "//" && b != 0) {
        result = Value::Number(std::floor(a / b), integers);
      } else if (op == "%" && b != 0) {
        result = Value::Number(a - b * std::floor(a / b), integers);
      } else if (op == "**") {
        result = Value::Number(std::pow(a, b), integers && b >= 0);
      } else {
        return Value::Unknown("'" + expr.source + "' is not followed", expr.line, expr.source);
      }
      for (const Value* side : {&left, &right}) {
        if (result.derived_tag.empty()) {
          result.derived_tag = side->tag.empty() ? side->derived_tag : side->tag;
        }
      }
      return result;
    }
    if (left.is(Value::Kind::kString) && right.is(Value::Kind::kString) && op == "+") {
      return Value::String(left.text + right.text);
    }
    if (left.is(Value::Kind::kArray) && right.is(Value::Kind::kNumber) &&
        (op == "/" || op == "*") && right.number > 0) {
      auto array = std::make_shared<DataArray>(*left.array);
      array->scale = op == "/" ? array->scale * right.number : array->scale / right.number;
      Value result = left;
      result.array = array;
      return result;
    }
    if (left.is(Value::Kind::kUnknown)) return left;
    if (right.is(Value::Kind::kUnknown)) return right;
    if (left.is(Value::Kind::kArray) || right.is(Value::Kind::kArray)) {
      return Value::Unknown("'" + expr.source +
                                "' changes the data in a way the program format cannot "
                                "express (only dividing by a number, e.g. x / 255.0, becomes "
                                "scale: 255)",
                            expr.line, expr.source);
    }
    return Value::Unknown("'" + expr.source + "' is not followed", expr.line, expr.source);
  }

  // ---- calls ----
  Result<CallArgs> EvalArguments(const Expr& call) {
    CallArgs args;
    args.line = call.line;
    args.source = call.source;
    for (const Argument& argument : call.arguments) {
      if (argument.star) {
        return Status::InvalidArgument("'" + call.source + "': " + argument.keyword +
                                       "arguments are not followed; write the arguments out");
      }
      CB_ASSIGN_OR_RETURN(Value value, Eval(*argument.value));
      if (argument.keyword.empty()) {
        args.positional.push_back(std::move(value));
      } else {
        args.keywords.emplace_back(argument.keyword, std::move(value));
      }
    }
    return args;
  }

  // Gives a message without a place the file and line of `line`.
  Status AtLine(const Status& status, int line) const {
    if (status.ok() || StartsWith(status.message(), source_ + ":")) return status;
    return Error(line, status.message());
  }

  Result<Value> EvalCall(const Expr& expr) {
    auto value = EvalCallHere(expr);
    if (!value.ok()) return AtLine(value.status(), expr.line);
    return value;
  }

  Result<Value> EvalCallHere(const Expr& expr) {
    CB_ASSIGN_OR_RETURN(Value callee, Eval(*expr.object));
    if (callee.is(Value::Kind::kUnknown)) return callee;
    CB_ASSIGN_OR_RETURN(CallArgs args, EvalArguments(expr));
    switch (callee.kind) {
      case Value::Kind::kModule:
        return CallModule(Canonical(callee.text), args, expr);
      case Value::Kind::kFunction:
        return CallFunction(callee, args.positional, expr.line);
      case Value::Kind::kMethod:
        return CallMethod(callee.items[0], callee.text, args, expr);
      case Value::Kind::kLayer:
        return ApplyLayer(*callee.layer, args, expr);
      default:
        return Value::Unknown("'" + expr.source + "' calls " + Describe(callee), expr.line,
                              expr.source);
    }
  }

  Result<Value> CallFunction(const Value& function, const std::vector<Value>& arguments, int line) {
    const Statement& def = *function.function;
    called_.insert(def.text);
    if (static_cast<int>(frames_.size()) >= kMaxCallDepth) {
      return Value::Unknown("calls nest too deeply (recursion?)", line);
    }
    Frame frame;
    for (size_t i = 0; i < def.parameters.size(); ++i) {
      frame.locals[def.parameters[i]] =
          i < arguments.size() ? arguments[i]
                               : Value::Unknown("the parameter '" + def.parameters[i] + "' of " +
                                                    def.text + "() has no value",
                                                def.line);
    }
    frames_.push_back(std::move(frame));
    returning_ = false;
    return_value_ = Value();
    Status status = ExecBlock(def.body);
    frames_.pop_back();
    const Value result = returning_ ? return_value_ : Value();
    returning_ = false;
    return_value_ = Value();
    CB_RETURN_IF_ERROR(status);
    return result;
  }

  Result<Value> CallModule(const std::string& path, const CallArgs& args, const Expr& expr) {
    const int line = expr.line;
    if (StartsWith(path, "keras.")) return CallKeras(path, args, expr);
    if (path == "builtins.print") return Value();
    if (path == "builtins.len" && args.positional.size() == 1) {
      const Value& of = args.positional[0];
      if (of.is(Value::Kind::kArray)) {
        Value count;
        count.kind = Value::Kind::kSampleCount;
        return count;
      }
      if (of.is(Value::Kind::kSequence) || of.is(Value::Kind::kString)) {
        return Value::Number(
            static_cast<double>(of.is(Value::Kind::kString) ? of.text.size() : of.items.size()),
            true);
      }
    }
    if ((path == "builtins.int" || path == "builtins.float") && args.positional.size() == 1 &&
        args.positional[0].is(Value::Kind::kNumber)) {
      const double number = args.positional[0].number;
      return path == "builtins.int" ? Value::Number(std::trunc(number), true)
                                    : Value::Number(number, false);
    }
    if (path == "numpy.prod" && args.positional.size() == 1 &&
        args.positional[0].is(Value::Kind::kSequence)) {
      double product = 1;
      for (const Value& item : args.positional[0].items) {
        if (!item.is(Value::Kind::kNumber)) {
          return Value::Unknown("'" + expr.source + "' multiplies a size that is not known", line,
                                expr.source);
        }
        product *= item.number;
      }
      return Value::Number(product, true);
    }
    if ((path == "numpy.array" || path == "numpy.asarray" || path == "numpy.float32") &&
        args.positional.size() == 1 && args.positional[0].is(Value::Kind::kArray)) {
      return args.positional[0];
    }
    if ((path == "numpy.expand_dims" || path == "tensorflow.expand_dims") &&
        args.positional.size() >= 1 && args.positional[0].is(Value::Kind::kArray)) {
      return ExpandDims(args, expr);
    }
    if (path == "idx2numpy.convert_from_file" && args.positional.size() == 1) {
      return LoadIdxFile(args.positional[0], expr);
    }
    if ((path == "gzip.open" || path == "builtins.open") && !args.positional.empty() &&
        args.positional[0].is(Value::Kind::kString)) {
      Value file;
      file.kind = Value::Kind::kFile;
      file.text = args.positional[0].text;
      return file;
    }
    return Value::Unknown("'" + expr.source + "' (" + path + ") is not followed by the importer",
                          line, expr.source);
  }

  Result<Value> LoadIdxFile(const Value& from, const Expr& expr) {
    std::string path;
    if (from.is(Value::Kind::kString) || from.is(Value::Kind::kFile)) path = from.text;
    if (path.empty()) {
      return Value::Unknown("'" + expr.source + "' reads a file whose name is not a plain string",
                            expr.line, expr.source);
    }
    while (StartsWith(path, "./")) path = path.substr(2);
    if (path.empty() || path[0] == '/' || path[0] == '\\' || path.find("..") != std::string::npos ||
        (path.size() > 1 && path[1] == ':')) {
      return Status::InvalidArgument(
          "'" + expr.source + "' reads '" + path +
          "': data paths must be relative to the project's distributed/working_dir (where "
          "cloudbook looks for data), without '..'; copy the file there and give its relative "
          "path");
    }
    auto array = std::make_shared<DataArray>();
    array->path = path;
    array->line = expr.line;
    Value value;
    value.kind = Value::Kind::kArray;
    value.array = array;
    return value;
  }

  Result<Value> ExpandDims(const CallArgs& args, const Expr& expr) {
    const Value& data = args.positional[0];
    Value axis_value = args.positional.size() > 1 ? args.positional[1] : Value::Number(-1, true);
    for (const auto& [keyword, value] : args.keywords) {
      if (keyword == "axis") axis_value = value;
    }
    if (data.array->sample_shape.empty() || !axis_value.is(Value::Kind::kNumber)) {
      return Value::Unknown("'" + expr.source + "' on data of unknown shape", expr.line,
                            expr.source);
    }
    auto array = std::make_shared<DataArray>(*data.array);
    const int64_t rank = static_cast<int64_t>(array->sample_shape.size()) + 1;  // with samples
    int64_t axis = static_cast<int64_t>(axis_value.number);
    if (axis < 0) axis += rank + 1;
    if (axis < 1 || axis > rank) {
      return Value::Unknown("'" + expr.source + "' adds an axis before the samples", expr.line,
                            expr.source);
    }
    array->sample_shape.insert(array->sample_shape.begin() + (axis - 1), 1);
    Value result = data;
    result.array = array;
    return result;
  }

  Result<Value> LoadKerasDataset(const std::string& dataset, const Expr& expr) {
    if (dataset != "mnist" && dataset != "fashion_mnist") {
      return Status::InvalidArgument(
          "the Keras data set '" + dataset +
          "' is not supported: cloudbook reads MNIST and Fashion-MNIST as IDX files (mnist, "
          "fashion_mnist); for other data, save it as IDX files in distributed/working_dir "
          "and load them with idx2numpy.convert_from_file('<relative path>')");
    }
    std::vector<Value> splits;
    for (bool train : {true, false}) {
      std::vector<Value> pair;
      for (bool labels : {false, true}) {
        auto array = std::make_shared<DataArray>();
        array->dataset = dataset;
        array->path = DatasetFile(dataset, train, labels);
        array->labels = labels;
        array->line = expr.line;
        if (!labels) array->sample_shape = {28, 28};
        Value value;
        value.kind = Value::Kind::kArray;
        value.array = array;
        pair.push_back(value);
      }
      splits.push_back(Value::Sequence(std::move(pair), false));
    }
    return Value::Sequence(std::move(splits), false);
  }

  Result<Value> CallKeras(const std::string& path, const CallArgs& args, const Expr& expr) {
    const std::string last = LastPart(path);
    const std::string parent = path.substr(0, path.rfind('.'));
    if (StartsWith(path, "keras.datasets.") && last == "load_data") {
      return LoadKerasDataset(LastPart(parent), expr);
    }
    if (path == "keras.Input" || path == "keras.layers.Input") {
      CB_ASSIGN_OR_RETURN(LayerObject input, MakeLayer("Input", args));
      auto tensor = std::make_shared<TensorNode>();
      tensor->input_id = ++next_input_id_;
      tensor->input_shape = *input.input_shape;
      tensor->input_dtype = input.input_dtype;
      tensor->input_line = expr.line;
      Value value;
      value.kind = Value::Kind::kTensor;
      value.tensor = tensor;
      return value;
    }
    if (parent == "keras.layers") {
      if (last == "Activation") {
        if (args.positional.size() != 1 || !args.positional[0].is(Value::Kind::kString)) {
          return Status::InvalidArgument("'" + expr.source +
                                         "': Activation takes one name, e.g. Activation('relu')");
        }
        LayerObject layer;
        layer.spec.type = "activation";
        layer.spec.words["activation"] = args.positional[0].text;
        layer.spec.line = expr.line;
        layer.source = expr.source;
        return LayerValue(std::move(layer));
      }
      auto layer = MakeLayer(last, args);
      if (!layer.ok()) {
        return Status::InvalidArgument("'" + expr.source + "': " + layer.status().message());
      }
      return LayerValue(std::move(*layer));
    }
    if (path == "keras.Sequential" || path == "keras.models.Sequential") {
      return MakeSequential(args, expr);
    }
    if (path == "keras.Model" || path == "keras.models.Model") return MakeFunctional(args, expr);
    if (StartsWith(path, "keras.optimizers.")) return MakeOptimizer(last, args, expr);
    if (StartsWith(path, "keras.losses.")) {
      Value loss;
      loss.kind = Value::Kind::kLoss;
      loss.text = last;
      for (const auto& [keyword, value] : args.keywords) {
        if (keyword == "from_logits" && value.is(Value::Kind::kBool) && value.number != 0) {
          return Status::InvalidArgument(
              "'" + expr.source +
              "': from_logits=True is not supported: cloudbook composes the probabilities of "
              "the output layer, so end the network with activation='softmax' and leave "
              "from_logits out");
        }
      }
      return loss;
    }
    if (path == "keras.utils.to_categorical") {
      return Status::InvalidArgument(
          "'" + expr.source +
          "': one-hot labels are not supported; keep the class numbers and use "
          "loss='sparse_categorical_crossentropy' (the same training)");
    }
    return Status::InvalidArgument("'" + expr.source + "': " + path +
                                   " is not part of the Keras subset the importer understands "
                                   "(docs/keras-import.md)");
  }

  static Value LayerValue(LayerObject layer) {
    Value value;
    value.kind = Value::Kind::kLayer;
    value.line = layer.spec.line;
    value.layer = std::make_shared<const LayerObject>(std::move(layer));
    return value;
  }

  // Appends a layer; Activation('x') folds into the layer before it.
  Status AppendLayer(std::vector<LayerSpec>* layers, const LayerObject& layer) {
    if (layer.spec.type != "activation") {
      layers->push_back(layer.spec);
      return Status::Ok();
    }
    const std::string& word = layer.spec.words.at("activation");
    if (layers->empty() || (layers->back().type != "dense" && layers->back().type != "conv2d") ||
        (layers->back().words.count("activation") > 0 &&
         layers->back().words.at("activation") != "linear")) {
      return Error(layer.spec.line,
                   "'" + layer.source +
                       "': an Activation layer is supported only right after a Dense or "
                       "Conv2D without an activation; write activation='" +
                       word + "' on that layer instead");
    }
    LayerSpec& previous = layers->back();
    auto check = MakeLayer("Dense", {{Value::Number(1, true)},
                                     {{"activation", Value::String(word)}},
                                     layer.spec.line,
                                     layer.source});
    if (!check.ok()) {
      return Error(layer.spec.line, "'" + layer.source + "': " + check.status().message());
    }
    previous.words["activation"] = word;
    return Status::Ok();
  }

  Result<Value> ApplyLayer(const LayerObject& layer, const CallArgs& args, const Expr& expr) {
    if (args.positional.size() != 1 || !args.keywords.empty()) {
      return Status::InvalidArgument("'" + expr.source +
                                     "': a layer is applied to one tensor, e.g. Dense(10)(x)");
    }
    const Value& input = args.positional[0];
    if (input.is(Value::Kind::kUnknown)) return input;
    if (!input.is(Value::Kind::kTensor)) {
      return Status::InvalidArgument("'" + expr.source +
                                     "': a layer is applied to a tensor (from "
                                     "Input(shape=...) or another layer); got " +
                                     Describe(input));
    }
    if (layer.spec.type == "input") {
      return Status::InvalidArgument("'" + expr.source + "': an InputLayer cannot be applied");
    }
    auto tensor = std::make_shared<TensorNode>(*input.tensor);
    CB_RETURN_IF_ERROR(AppendLayer(&tensor->layers, layer));
    Value value;
    value.kind = Value::Kind::kTensor;
    value.tensor = tensor;
    return value;
  }

  Status AddToSequential(ModelState* model, const Value& item, const std::string& where) {
    if (item.is(Value::Kind::kTensor) && item.tensor->layers.empty()) {
      if (!model->layers.empty() || model->input_shape) {
        return Error(item.tensor->input_line, "Input(...) must come first in " + where);
      }
      model->input_shape = item.tensor->input_shape;
      model->input_dtype = item.tensor->input_dtype;
      return Status::Ok();
    }
    if (!item.is(Value::Kind::kLayer)) {
      return Error(
          item.line > 0 ? item.line : model->line,
          where + " holds " + Describe(item) + ", not a Keras layer" +
              (item.is(Value::Kind::kUnknown) ? ""
                                              : "; supported layers: " + SupportedLayerList()));
    }
    const LayerObject& layer = *item.layer;
    if (layer.spec.type == "input") {
      if (!model->layers.empty() || model->input_shape) {
        return Error(layer.spec.line, "InputLayer must come first in " + where);
      }
      model->input_shape = layer.input_shape;
      model->input_dtype = layer.input_dtype;
      return Status::Ok();
    }
    if (model->layers.empty() && !model->input_shape) {
      if (layer.input_shape) model->input_shape = layer.input_shape;
      model->input_dtype = layer.input_dtype;
    } else if (layer.input_shape && !model->layers.empty()) {
      Warn(layer.spec.line,
           "input_shape on a layer that is not the first one is ignored (as "
           "Keras does)");
    }
    return AppendLayer(&model->layers, layer);
  }

  Result<Value> MakeSequential(const CallArgs& args, const Expr& expr) {
    auto model = std::make_shared<ModelState>();
    model->line = expr.line;
    std::optional<Value> layers;
    if (!args.positional.empty()) layers = args.positional[0];
    for (const auto& [keyword, value] : args.keywords) {
      if (keyword == "layers") {
        layers = value;
      } else if (keyword != "name") {
        return Status::InvalidArgument("'" + expr.source + "': Sequential's argument '" + keyword +
                                       "' is not supported");
      }
    }
    if (layers && !layers->is(Value::Kind::kNone)) {
      if (!layers->is(Value::Kind::kSequence)) {
        return Status::InvalidArgument("'" + expr.source +
                                       "': Sequential takes a list of layers; got " +
                                       Describe(*layers) + UnknownReason(*layers));
      }
      for (size_t i = 0; i < layers->items.size(); ++i) {
        const Value& item = layers->items[i];
        if (item.is(Value::Kind::kUnknown)) {
          return Error(expr.line, "item " + std::to_string(i + 1) +
                                      " of Sequential([...]) is "
                                      "not a layer the importer understands" +
                                      UnknownReason(item));
        }
        CB_RETURN_IF_ERROR(AddToSequential(model.get(), item, "Sequential([...])"));
      }
    }
    Value value;
    value.kind = Value::Kind::kModel;
    value.model = model;
    value.line = expr.line;
    return value;
  }

  Result<Value> MakeFunctional(const CallArgs& args, const Expr& expr) {
    std::optional<Value> inputs;
    std::optional<Value> outputs;
    if (!args.positional.empty()) inputs = args.positional[0];
    if (args.positional.size() > 1) outputs = args.positional[1];
    for (const auto& [keyword, value] : args.keywords) {
      if (keyword == "inputs") {
        inputs = value;
      } else if (keyword == "outputs") {
        outputs = value;
      } else if (keyword != "name") {
        return Status::InvalidArgument("'" + expr.source + "': Model's argument '" + keyword +
                                       "' is not supported");
      }
    }
    if (!inputs || !outputs) {
      return Status::InvalidArgument(
          "'" + expr.source +
          "': Model needs inputs and outputs (Model(inputs, outputs)); subclassed models are "
          "not supported: write the network with Sequential or the functional API");
    }
    for (std::optional<Value>* side : {&inputs, &outputs}) {
      if ((*side)->is(Value::Kind::kSequence)) {
        if ((*side)->items.size() != 1) {
          return Status::InvalidArgument("'" + expr.source +
                                         "': cloudbook networks have one input and one output");
        }
        *side = (*side)->items[0];
      }
      if ((*side)->is(Value::Kind::kUnknown)) {
        return Status::InvalidArgument(
            "'" + expr.source +
            "': " + (side == &inputs ? std::string("inputs") : std::string("outputs")) +
            " cannot be followed" + UnknownReason(**side));
      }
      if (!(*side)->is(Value::Kind::kTensor)) {
        return Status::InvalidArgument("'" + expr.source + "': expected Keras tensors, got " +
                                       Describe(**side));
      }
    }
    if (!inputs->tensor->layers.empty() || inputs->tensor->input_id != outputs->tensor->input_id) {
      return Status::InvalidArgument(
          "'" + expr.source +
          "': the outputs must be computed from the inputs (an Input(shape=...) followed by "
          "layers applied one after another)");
    }
    auto model = std::make_shared<ModelState>();
    model->line = expr.line;
    model->functional = true;
    model->input_shape = inputs->tensor->input_shape;
    model->input_dtype = inputs->tensor->input_dtype;
    model->layers = outputs->tensor->layers;
    if (!model->layers.empty() && model->layers[0].type == "embedding") {
      model->input_dtype = "int64";
    }
    Value value;
    value.kind = Value::Kind::kModel;
    value.model = model;
    value.line = expr.line;
    return value;
  }

  Result<Value> MakeOptimizer(const std::string& name, const CallArgs& args, const Expr& expr) {
    const std::string lower = Lower(name);
    if (lower != "adam" && lower != "sgd") {
      return Status::InvalidArgument("'" + expr.source + "': the optimizer " + name +
                                     " is not supported; valid: Adam(learning_rate=...), "
                                     "SGD(learning_rate=..., momentum=...)");
    }
    auto optimizer = std::make_shared<OptimizerSpec>();
    optimizer->name = lower;
    if (args.positional.size() > 1) {
      return Status::InvalidArgument("'" + expr.source +
                                     "': give the optimizer's arguments by name");
    }
    if (!args.positional.empty()) {
      CB_ASSIGN_OR_RETURN(optimizer->learning_rate,
                          RealNumber(args.positional[0], name + " learning_rate"));
    }
    for (const auto& [keyword, value] : args.keywords) {
      if (keyword == "learning_rate" || keyword == "lr") {
        CB_ASSIGN_OR_RETURN(optimizer->learning_rate, RealNumber(value, name + " " + keyword));
      } else if (keyword == "momentum" && lower == "sgd") {
        CB_ASSIGN_OR_RETURN(optimizer->momentum, RealNumber(value, name + " momentum"));
      } else if (keyword == "nesterov" && lower == "sgd" && value.is(Value::Kind::kBool) &&
                 value.number == 0) {
        continue;
      } else if (keyword != "name") {
        return Status::InvalidArgument(
            "'" + expr.source + "': " + name + "'s argument '" + keyword +
            "' is not supported (cloudbook takes learning_rate" +
            (lower == "sgd" ? std::string(" and momentum") : "") + "); remove it");
      }
    }
    if (optimizer->learning_rate && *optimizer->learning_rate <= 0) {
      return Status::InvalidArgument("'" + expr.source + "': learning_rate must be > 0");
    }
    Value value;
    value.kind = Value::Kind::kOptimizer;
    value.optimizer = optimizer;
    return value;
  }

  // model.add / compile / fit / predict / summary / evaluate; array.astype / reshape.
  Result<Value> CallMethod(const Value& object, const std::string& name, const CallArgs& args,
                           const Expr& expr) {
    if (object.is(Value::Kind::kArray)) return CallArrayMethod(object, name, args, expr);
    if (!object.is(Value::Kind::kModel)) {
      return Value::Unknown("'" + expr.source + "' is not followed", expr.line, expr.source);
    }
    ModelState& model = *object.model;
    const int line = expr.line;
    if (!Strict()) {
      if (name == "add" || name == "compile" || name == "fit" || name == "predict") {
        Warn(line, "'" + expr.source +
                       "' is outside the SKYNNET block and is ignored: only the block's "
                       "model, compile, fit and predict are imported");
      }
      return Value::Unknown("'" + expr.source + "' runs outside the SKYNNET block", line,
                            expr.source);
    }
    if (name == "add") {
      if (args.positional.size() != 1) {
        return Status::InvalidArgument("'" + expr.source + "': add takes one layer");
      }
      CB_RETURN_IF_ERROR(AddToSequential(&model, args.positional[0], "model.add(...)"));
      return Value();
    }
    if (name == "summary" || name == "save" || name == "save_weights" || name == "evaluate" ||
        name == "count_params") {
      Note(line, "ignored: " + expr.source);
      return Value();
    }
    if (name == "compile") return Compile(&model, args, expr);
    if (name == "fit") return Fit(&model, object, args, expr);
    if (name == "predict") {
      if (args.positional.empty()) {
        return Status::InvalidArgument("'" + expr.source + "': predict needs the test data");
      }
      model.predict_line = line;
      model.predict_x = args.positional[0];
      const Expr& argument = *expr.arguments[0].value;
      model.predict_x_name = argument.kind == Expr::Kind::kName ? argument.text : argument.source;
      return Value::Unknown("the predictions of " + expr.source, line, expr.source);
    }
    return Status::InvalidArgument("'" + expr.source + "': the model method " + name +
                                   " is not supported in the SKYNNET block; supported: add, "
                                   "compile, fit, predict (summary, evaluate and save are "
                                   "ignored)");
  }

  Result<Value> CallArrayMethod(const Value& object, const std::string& name, const CallArgs& args,
                                const Expr& expr) {
    if (name == "astype" || name == "copy") return object;
    if (name != "reshape") {
      return Value::Unknown("'" + expr.source +
                                "' changes the data in a way the program "
                                "format cannot express",
                            expr.line, expr.source);
    }
    std::vector<Value> dims = args.positional;
    if (dims.size() == 1 && dims[0].is(Value::Kind::kSequence)) dims = dims[0].items;
    if (dims.empty()) {
      return Value::Unknown("'" + expr.source + "' without a shape", expr.line, expr.source);
    }
    // The first size is the number of samples: -1, len(x) or a number.
    const Value& first = dims[0];
    if (!(first.is(Value::Kind::kSampleCount) || first.is(Value::Kind::kNumber))) {
      return Value::Unknown("'" + expr.source + "': the number of samples is not followed",
                            expr.line, expr.source);
    }
    std::vector<int64_t> shape;
    for (size_t i = 1; i < dims.size(); ++i) {
      if (!dims[i].is(Value::Kind::kNumber) || dims[i].number < 1 ||
          dims[i].number != std::floor(dims[i].number)) {
        return Value::Unknown("'" + expr.source +
                                  "' reshapes each sample to sizes the importer cannot read "
                                  "(write them as numbers, with -1 only for the samples)",
                              expr.line, expr.source);
      }
      shape.push_back(static_cast<int64_t>(dims[i].number));
    }
    const auto& current = object.array->sample_shape;
    if (!current.empty() && Product(current) != Product(shape)) {
      return Status::InvalidArgument("'" + expr.source + "' reshapes samples of " +
                                     ShapeText(current) + " (" + std::to_string(Product(current)) +
                                     " values) to " + ShapeText(shape));
    }
    auto array = std::make_shared<DataArray>(*object.array);
    array->sample_shape = shape;
    Value result = object;
    result.array = array;
    return result;
  }

  Result<Value> Compile(ModelState* model, const CallArgs& args, const Expr& expr) {
    const std::vector<std::string> order = {"optimizer", "loss", "metrics"};
    if (args.positional.size() > order.size()) {
      return Status::InvalidArgument("'" + expr.source + "': too many positional arguments");
    }
    std::map<std::string, Value> given;
    for (size_t i = 0; i < args.positional.size(); ++i) given[order[i]] = args.positional[i];
    for (const auto& [keyword, value] : args.keywords) given[keyword] = value;
    model->compile_line = expr.line;
    for (const auto& [keyword, value] : given) {
      if (keyword == "optimizer") {
        if (value.is(Value::Kind::kOptimizer)) {
          model->optimizer = *value.optimizer;
        } else if (value.is(Value::Kind::kString) &&
                   (Lower(value.text) == "adam" || Lower(value.text) == "sgd")) {
          model->optimizer = OptimizerSpec();
          model->optimizer.name = Lower(value.text);
        } else {
          return Status::InvalidArgument(
              "'" + expr.source + "': optimizer " +
              (value.is(Value::Kind::kString) ? "'" + value.text + "'" : Describe(value)) +
              " is not supported; valid: 'adam', 'sgd', Adam(learning_rate=...), "
              "SGD(learning_rate=..., momentum=...)" +
              UnknownReason(value));
        }
      } else if (keyword == "loss") {
        CB_ASSIGN_OR_RETURN(model->loss, LossName(value, expr));
        model->loss_line = expr.line;
      } else if (keyword == "metrics" || keyword == "run_eagerly" || keyword == "jit_compile" ||
                 keyword == "steps_per_execution" || keyword == "weighted_metrics") {
        continue;  // the metrics come from the SKYNNET marker
      } else {
        return Status::InvalidArgument("'" + expr.source + "': compile's argument '" + keyword +
                                       "' is not supported (remove it)");
      }
    }
    if (model->loss.empty()) {
      return Status::InvalidArgument("'" + expr.source + "': compile needs loss=...");
    }
    return Value();
  }

  Result<std::string> LossName(const Value& value, const Expr& expr) {
    std::string name;
    if (value.is(Value::Kind::kString) || value.is(Value::Kind::kLoss)) name = value.text;
    if (value.is(Value::Kind::kModule)) name = LastPart(value.text);
    static const std::map<std::string, std::string> names = {
        {"sparse_categorical_crossentropy", "sparse_categorical_crossentropy"},
        {"SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"},
        {"categorical_crossentropy", "categorical_crossentropy"},
        {"CategoricalCrossentropy", "categorical_crossentropy"},
        {"binary_crossentropy", "binary_crossentropy"},
        {"BinaryCrossentropy", "binary_crossentropy"},
        {"mse", "mse"},
        {"mean_squared_error", "mse"},
        {"MeanSquaredError", "mse"},
        {"MSE", "mse"},
        {"mae", "mae"},
        {"mean_absolute_error", "mae"},
        {"MeanAbsoluteError", "mae"},
        {"MAE", "mae"}};
    const auto found = names.find(name);
    if (found == names.end()) {
      return Status::InvalidArgument(
          "'" + expr.source + "': the loss " + (name.empty() ? Describe(value) : "'" + name + "'") +
          " is not supported; valid: sparse_categorical_crossentropy, categorical_crossentropy, "
          "binary_crossentropy, mse (mean_squared_error), mae (mean_absolute_error)" +
          UnknownReason(value));
    }
    return found->second;
  }

  Result<Value> Fit(ModelState* model, const Value& model_value, const CallArgs& args,
                    const Expr& expr) {
    const int line = expr.line;
    if (!Strict()) return Value();
    if (fit_model_ && fit_model_ != model_value.model) {
      return Error(line, "a second model is trained in the SKYNNET block (the first at line " +
                             std::to_string(fit_model_->fit_line) +
                             "): cloudbook imports one network per program");
    }
    if (model->fit_line != 0) {
      return Error(line, "fit is called a second time (first at line " +
                             std::to_string(model->fit_line) + "); train the model with one fit");
    }
    const std::vector<std::string> order = {
        "x",       "y",         "batch_size",       "epochs",
        "verbose", "callbacks", "validation_split", "validation_data",
        "shuffle"};
    if (args.positional.size() > order.size()) {
      return Status::InvalidArgument("'" + expr.source + "': too many positional arguments");
    }
    std::map<std::string, Value> given;
    std::map<std::string, std::string> written;  // x and y as written
    for (size_t i = 0; i < args.positional.size(); ++i) {
      given[order[i]] = args.positional[i];
      const Expr& argument = *expr.arguments[i].value;
      written[order[i]] = argument.kind == Expr::Kind::kName ? argument.text : argument.source;
    }
    for (size_t i = 0; i < expr.arguments.size(); ++i) {
      const Argument& argument = expr.arguments[i];
      if (argument.keyword.empty()) continue;
      written[argument.keyword] =
          argument.value->kind == Expr::Kind::kName ? argument.value->text : argument.value->source;
    }
    for (const auto& [keyword, value] : args.keywords) given[keyword] = value;
    model->epochs = Value();
    for (const auto& [keyword, value] : given) {
      if (keyword == "x") {
        model->fit_x = value;
      } else if (keyword == "y") {
        model->fit_y = value;
      } else if (keyword == "epochs") {
        CB_ASSIGN_OR_RETURN(const int64_t epochs, WholeNumber(value, "fit's epochs"));
        if (epochs < 1) return Status::InvalidArgument("fit's epochs must be >= 1");
        model->epochs = value;
      } else if (keyword == "batch_size") {
        if (value.is(Value::Kind::kNone)) continue;
        CB_ASSIGN_OR_RETURN(model->batch_size, WholeNumber(value, "fit's batch_size"));
        if (model->batch_size < 1) return Status::InvalidArgument("fit's batch_size must be >= 1");
      } else if (keyword == "validation_split") {
        CB_ASSIGN_OR_RETURN(model->validation_split, RealNumber(value, "validation_split"));
        if (model->validation_split < 0 || model->validation_split >= 1) {
          return Status::InvalidArgument("validation_split must be in [0, 1)");
        }
      } else if (keyword == "validation_data") {
        if (value.is(Value::Kind::kNone)) continue;
        return Error(line, "'" + expr.source +
                               "': validation_data is not supported: cloudbook validates on the "
                               "last part of the training data; write validation_split=0.1 (or "
                               "another fraction) instead");
      } else if (keyword == "callbacks") {
        Warn(line,
             "fit's callbacks are ignored: cloudbook trains for the given epochs and "
             "checkpoints every epoch itself");
      } else if (keyword == "verbose" || keyword == "shuffle" || keyword == "workers" ||
                 keyword == "use_multiprocessing" || keyword == "max_queue_size" ||
                 keyword == "validation_freq" || keyword == "validation_batch_size") {
        continue;
      } else {
        return Error(line, "'" + expr.source + "': fit's argument '" + keyword +
                               "' is not supported (remove it); understood: x, y, epochs, "
                               "batch_size, validation_split");
      }
    }
    if (given.count("x") == 0 || given.count("y") == 0) {
      return Error(line, "'" + expr.source +
                             "': fit needs the training data and its targets, "
                             "fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, ...)");
    }
    model->fit_x_name = written["x"];
    model->fit_y_name = written["y"];
    model->fit_line = line;
    fit_model_ = model_value.model;
    return Value::Unknown("the training history", line, expr.source);
  }

  // ---- the program ----
  Result<ArraySource> SourceOf(const Value& value, const std::string& what, int line) {
    if (!value.is(Value::Kind::kArray)) {
      return Error(line, what +
                             " must be data loaded from a Keras data set "
                             "(tf.keras.datasets.mnist / fashion_mnist .load_data()) or with "
                             "idx2numpy.convert_from_file('<path in working_dir>'); got " +
                             Describe(value) + UnknownReason(value) +
                             ". cloudbook reads the data itself, so only loading, dividing by "
                             "a number and reshaping can be imported; make other changes "
                             "beforehand into IDX files (as configs/fashion_binary/"
                             "prepare_data.py does for a binary task) and load those");
    }
    ArraySource source;
    source.format = "idx";
    source.path = value.array->path;
    source.scale = value.array->scale;
    return source;
  }

  void AddDataFile(const Value& value, const std::string& role) {
    if (!value.is(Value::Kind::kArray)) return;
    for (const DataFile& file : data_files_) {
      if (file.path == value.array->path) return;
    }
    data_files_.push_back({value.array->path, value.array->dataset, role});
  }

  static bool SameArray(const Value& a, const Value& b) {
    return a.is(Value::Kind::kArray) && b.is(Value::Kind::kArray) && a.array->path == b.array->path;
  }

  Result<InterpretedProgram> Assemble() {
    if (!fit_model_) {
      return Error(block_.begin_line, "no <model>.fit(...) in the SKYNNET block (lines " +
                                          std::to_string(block_.begin_line) + "-" +
                                          std::to_string(block_.end_line) +
                                          "): the block must build, compile and fit the network");
    }
    const ModelState& model = *fit_model_;
    Program program;
    program.name = name_;
    program.problem = block_.problem;
    if (block_.problem == ProblemType::kRegression) {
      if (!block_.metrics_suffix.empty()) {
        Warn(block_.begin_line, "the _" + block_.metrics_suffix +
                                    " suffix is ignored for REGRESSION: the composed "
                                    "prediction reports mse and mae");
      }
    } else if (block_.metrics_suffix == "ACC") {
      program.metrics = {"accuracy"};
    } else if (block_.metrics_suffix == "LOSS") {
      program.metrics = {"loss"};
    } else if (block_.metrics_suffix == "ACC_LOSS") {
      program.metrics = {"accuracy", "loss"};
    }
    if (model.layers.empty()) {
      return Error(model.line, "the model has no layers");
    }
    if (model.compile_line == 0) {
      return Error(model.fit_line,
                   "the model is trained without compile(...): add "
                   "model.compile(optimizer=..., loss=...) before fit");
    }
    // Data.
    CB_ASSIGN_OR_RETURN(
        program.data.train.x,
        SourceOf(model.fit_x, "fit's training data ('" + model.fit_x_name + "')", model.fit_line));
    const bool autoencoder = SameArray(model.fit_x, model.fit_y);
    if (autoencoder) {
      if (model.fit_y.array->scale != model.fit_x.array->scale) {
        return Error(model.fit_line,
                     "fit's targets are its inputs scaled differently; scale "
                     "both the same way");
      }
      program.data.train.y.format = "same_as_x";
      if (block_.problem != ProblemType::kRegression) {
        return Error(model.fit_line,
                     "fit's targets are its inputs (an autoencoder): use "
                     "#SKYNNET:BEGIN_REGRESSION");
      }
    } else {
      CB_ASSIGN_OR_RETURN(
          program.data.train.y,
          SourceOf(model.fit_y, "fit's targets ('" + model.fit_y_name + "')", model.fit_line));
      if (model.fit_y.array->labels && model.fit_y.array->scale != 1) {
        return Error(model.fit_line,
                     "the labels are divided by a number; keep them as class "
                     "numbers");
      }
    }
    AddDataFile(model.fit_x, "training inputs");
    AddDataFile(model.fit_y, "training targets");
    program.data.validation_split = model.validation_split;
    if (model.fit_x_name != "_DATA_TRAIN_X" ||
        (model.fit_y_name != "_DATA_TRAIN_Y" &&
         !(autoencoder && model.fit_y_name == "_DATA_TRAIN_X"))) {
      Warn(model.fit_line, "fit trains on '" + model.fit_x_name + "', '" + model.fit_y_name +
                               "' rather than _DATA_TRAIN_X, _DATA_TRAIN_Y: the original "
                               "sk_tool splits only the _DATA_ variables between the subnets, "
                               "so it would have trained every subnet on all the data; "
                               "cloudbook splits what fit receives");
    }
    for (const std::string name : {"_DATA_VAL_X", "_DATA_VAL_Y"}) {
      if (data_lines_.count(name) > 0) {
        Warn(data_lines_[name], name + " is not used: cloudbook validates on the last " +
                                    std::string("validation_split of the training data (fit's "
                                                "validation_split)"));
      }
    }
    // Test data: what predict receives (else _DATA_TEST_X) with _DATA_TEST_Y.
    Value test_x = model.predict_x;
    if (!test_x.is(Value::Kind::kArray)) test_x = data_values_["_DATA_TEST_X"];
    const Value test_y = data_values_["_DATA_TEST_Y"];
    if (model.predict_line != 0 && !model.predict_x.is(Value::Kind::kArray)) {
      return Error(model.predict_line, "predict's data ('" + model.predict_x_name +
                                           "') must be test data loaded like the training data; "
                                           "got " +
                                           Describe(model.predict_x) +
                                           UnknownReason(model.predict_x));
    }
    if (model.predict_line != 0 && model.predict_x_name != "_DATA_TEST_X") {
      Warn(model.predict_line, "predict uses '" + model.predict_x_name +
                                   "' rather than _DATA_TEST_X (the name the original sk_tool "
                                   "looks for); cloudbook tests on what predict receives");
    }
    if (test_x.is(Value::Kind::kArray)) {
      DataSplit test;
      CB_ASSIGN_OR_RETURN(test.x, SourceOf(test_x, "the test data", model.predict_line));
      bool have_y = true;
      if (SameArray(test_x, test_y) || (autoencoder && !test_y.is(Value::Kind::kArray))) {
        if (!autoencoder) {
          return Error(model.fit_line, "the test targets are the test inputs but fit's are not");
        }
        test.y.format = "same_as_x";
      } else if (test_y.is(Value::Kind::kArray)) {
        CB_ASSIGN_OR_RETURN(test.y, SourceOf(test_y, "_DATA_TEST_Y", data_lines_["_DATA_TEST_Y"]));
        AddDataFile(test_y, "test targets");
      } else {
        have_y = false;
        Warn(model.predict_line != 0 ? model.predict_line : block_.begin_line,
             "no test targets (_DATA_TEST_Y" +
                 std::string(test_y.is(Value::Kind::kUnknown) ? UnknownReason(test_y) : "") +
                 "): the program gets no test split, so the composed prediction is not scored");
      }
      if (have_y) {
        AddDataFile(test_x, "test inputs");
        program.data.test = test;
      }
    } else {
      Warn(block_.begin_line,
           "no test data (predict(_DATA_TEST_X) or _DATA_TEST_X): the "
           "composed prediction is not scored");
    }
    // Model.
    program.model.layers = model.layers;
    program.model.input_dtype = model.input_dtype;
    if (model.layers[0].type == "embedding") program.model.input_dtype = "int64";
    const std::vector<int64_t>& data_shape = model.fit_x.array->sample_shape;
    if (model.input_shape) {
      program.model.input_shape = *model.input_shape;
      if (!data_shape.empty() && Product(data_shape) != Product(*model.input_shape)) {
        return Error(model.line, "the model's input " + ShapeText(*model.input_shape) + " holds " +
                                     std::to_string(Product(*model.input_shape)) +
                                     " values per sample, but the training data (line " +
                                     std::to_string(model.fit_x.array->line) + ") has " +
                                     ShapeText(data_shape) + " (" +
                                     std::to_string(Product(data_shape)) + ")");
      }
    } else if (!data_shape.empty()) {
      program.model.input_shape = data_shape;
    } else {
      return Error(model.line,
                   "the model's input shape is not known: give the first layer "
                   "input_shape=(...) or start with Input(shape=(...))");
    }
    CB_RETURN_IF_ERROR(CheckOutput(model));
    // Training.
    program.train.optimizer = model.optimizer.name;
    program.train.learning_rate =
        model.optimizer.learning_rate.value_or(model.optimizer.name == "sgd" ? 0.01 : 0.001);
    program.train.momentum = model.optimizer.momentum;
    program.train.loss = model.loss;
    CB_RETURN_IF_ERROR(CheckLoss(model));
    program.train.batch_size = model.batch_size;
    if (model.epochs.is(Value::Kind::kNumber)) {
      program.train.epochs.value = model.epochs.number;
      program.train.epochs.var = model.epochs.tag;
      if (model.epochs.tag.empty() && vars_.count("_EPOCHS") > 0) {
        Warn(model.fit_line,
             "_EPOCHS is defined but fit's epochs is not _EPOCHS, so the "
             "epochs are never reduced");
      }
    } else {
      program.train.epochs.value = 1;
      Warn(model.fit_line, "fit has no epochs=...: Keras trains 1 epoch, and so will cloudbook");
    }
    for (const auto& [name, var] : vars_) program.vars[name] = var.value;
    InterpretedProgram out;
    out.program = std::move(program);
    out.warnings = std::move(warnings_);
    out.notes = std::move(notes_);
    out.data_files = std::move(data_files_);
    return out;
  }

  Status CheckOutput(const ModelState& model) {
    const LayerSpec& last = model.layers.back();
    const std::string rule =
        "cloudbook (like sk_tool) takes the output size from the _NEURON_<k> with the highest "
        "k, so the last layer must be Dense(_NEURON_<k>, ...) with that variable";
    if (last.type != "dense") {
      return Error(last.line, "the last layer is " + last.type + ", not Dense: " + rule);
    }
    const NumberOrVar& units = last.numbers.at("units")[0];
    std::string highest;
    int highest_k = 0;
    for (const auto& [name, var] : vars_) {
      const int k = TaggedIndex(name, "_NEURON_");
      if (k > highest_k) {
        highest_k = k;
        highest = name;
      }
    }
    if (units.var.empty() || TaggedIndex(units.var, "_NEURON_") == 0) {
      return Error(last.line, "the output layer's units (" +
                                  std::to_string(static_cast<int64_t>(units.value)) +
                                  (units.var.empty() ? "" : ", " + units.var) +
                                  ") are not a _NEURON_<k> variable: " + rule);
    }
    if (units.var != highest) {
      return Error(last.line, "the output layer uses " + units.var + " but the highest is " +
                                  highest + " (line " + std::to_string(vars_[highest].line) +
                                  "): " + rule + "; renumber the variables");
    }
    const int64_t outputs = static_cast<int64_t>(units.value);
    if (block_.problem == ProblemType::kBinary && outputs != 2) {
      return Error(last.line,
                   "BINARYCLASS needs an output layer of 2 units (" + units.var + " = " +
                       std::to_string(outputs) +
                       "): the subnets compare the two probabilities; write Dense(" + units.var +
                       ", activation='softmax') with " + units.var +
                       " = 2 and loss='sparse_categorical_crossentropy' (labels 0 and 1)");
    }
    if (block_.problem == ProblemType::kMulticlass && outputs < 2) {
      return Error(last.line, "MULTICLASS needs at least 2 classes in the output layer (" +
                                  units.var + " = " + std::to_string(outputs) + ")");
    }
    return Status::Ok();
  }

  Status CheckLoss(const ModelState& model) {
    const bool regression_loss = model.loss == "mse" || model.loss == "mae";
    if (regression_loss == (block_.problem == ProblemType::kRegression)) return Status::Ok();
    if (regression_loss) {
      return Error(model.loss_line, "the loss '" + model.loss + "' does not fit " + block_.marker +
                                        ": classification trains with "
                                        "loss='sparse_categorical_crossentropy'");
    }
    return Error(model.loss_line, "the loss '" + model.loss + "' does not fit " + block_.marker +
                                      ": cloudbook trains and composes REGRESSION with "
                                      "loss='mse' (or 'mae'); change the loss");
  }

  const SkynnetBlock& block_;
  const std::string& source_;
  const std::string& name_;
  std::map<std::string, Value> globals_;
  std::vector<Frame> frames_;
  std::map<std::string, std::pair<int, std::string>> skipped_;
  std::vector<std::string> star_modules_;
  std::set<std::string> called_;
  int strict_depth_ = 0;
  bool block_ran_ = false;
  bool returning_ = false;
  Value return_value_;
  int next_input_id_ = 0;
  std::shared_ptr<ModelState> fit_model_;
  std::map<std::string, TaggedVar> vars_;
  std::set<std::string> warned_names_;
  std::map<std::string, int> data_lines_;
  std::map<std::string, Value> data_values_;  // the _DATA_ variables as last assigned
  std::vector<std::string> warnings_;
  std::vector<std::string> notes_;
  std::vector<DataFile> data_files_;
};

}  // namespace

Result<InterpretedProgram> InterpretKerasProgram(const Block& module, const SkynnetBlock& block,
                                                 const std::string& source_name,
                                                 const std::string& program_name) {
  return Interpreter(block, source_name, program_name).Run(module);
}

}  // namespace cloudbook::keras_import
