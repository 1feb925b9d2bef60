// Interpreter: running statements (module code, function bodies, the SKYNNET block) and the
// symbolic environment they bind names in; messages with file and line.
#include "maker/keras_import/interpreter.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace cloudbook::keras_import {
namespace {

// Names a statement binds (for messages about code the importer skipped).
void BoundNames(const Expr& target, std::vector<std::string>* names) {
  if (target.kind == Expr::Kind::kName) names->push_back(target.text);
  if (target.kind == Expr::Kind::kTuple || target.kind == Expr::Kind::kList) {
    for (const ExprPtr& item : target.items) {
      if (item) BoundNames(*item, names);
    }
  }
}

}  // namespace

Result<InterpretedProgram> Interpreter::Run(const Block& module) {
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

Status Interpreter::Error(int line, const std::string& what) const {
  return Status::InvalidArgument(source_ + ":" + std::to_string(line) + ": " + what);
}

void Interpreter::Warn(int line, const std::string& what) {
  warnings_.push_back(source_ + ":" + std::to_string(line) + ": " + what);
}

void Interpreter::Note(int line, const std::string& what) {
  notes_.push_back(source_ + ":" + std::to_string(line) + ": " + what);
}

// Gives a message without a place the file and line of `line`.
Status Interpreter::AtLine(const Status& status, int line) const {
  if (status.ok() || StartsWith(status.message(), source_ + ":")) return status;
  return Error(line, status.message());
}

void Interpreter::Bind(const std::string& name, Value value) {
  if (!frames_.empty() && frames_.back().global_names.count(name) == 0) {
    frames_.back().locals[name] = std::move(value);
  } else {
    globals_[name] = std::move(value);
  }
}

Value Interpreter::Lookup(const std::string& name, int line) const {
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
  static const std::set<std::string> builtins = {
      "print", "len", "int", "float", "open", "range",     "list", "tuple",      "str",  "round",
      "min",   "max", "abs", "sum",   "type", "enumerate", "zip",  "isinstance", "bool", "sorted"};
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

Status Interpreter::ExecBlock(const Block& statements) {
  for (const Statement& statement : statements) {
    CB_RETURN_IF_ERROR(Exec(statement));
    if (returning_ || breaking_ || continuing_) break;
  }
  return Status::Ok();
}

Status Interpreter::Exec(const Statement& statement) {
  // Code the block runs is read strictly wherever it is written: a helper that builds the
  // model must be exact. Messages say which of the two it is (InBlockText).
  const bool in_block = block_.Contains(statement.line);
  if (fit_model_ && !after_fit_in_block_) {
    switch (statement.kind) {
      case Statement::Kind::kDef:
      case Statement::Kind::kImport:
      case Statement::Kind::kFromImport:
      case Statement::Kind::kGlobal:
      case Statement::Kind::kPass:
      case Statement::Kind::kReturn:
        break;
      default:
        return AtLine(ExecAfterFit(statement, in_block), statement.line);
    }
  }
  if (in_block) {
    block_ran_ = true;
    ++strict_depth_;
  }
  Status status = AtLine(ExecInContext(statement), statement.line);
  if (in_block) --strict_depth_;
  if (status.ok() && !fatal_.ok()) return AtLine(fatal_, statement.line);
  return status;
}

std::string Interpreter::InBlockText(int line) const {
  return block_.Contains(line) ? "inside the SKYNNET block"
                               : "in a function the SKYNNET block calls";
}

void Interpreter::RecordSkipped(const Statement& statement, const std::string& keyword) {
  for (const ExprPtr& target : statement.targets) {
    std::vector<std::string> names;
    BoundNames(*target, &names);
    for (const std::string& name : names) {
      // A value bound before the skipped statement may be stale after it: forget it, so a
      // later use says which statement was not run instead of using the old value.
      if (!frames_.empty() && frames_.back().global_names.count(name) == 0) {
        frames_.back().locals.erase(name);
      } else {
        globals_.erase(name);
      }
      skipped_[name] = {statement.line, keyword};
    }
  }
  if (statement.kind == Statement::Kind::kDef || statement.kind == Statement::Kind::kClass) {
    skipped_[statement.text] = {statement.line, keyword};
  }
  // A def's or class's body binds its own locals, not the names outside it.
  if (statement.kind == Statement::Kind::kDef || statement.kind == Statement::Kind::kClass) return;
  for (const Statement& inner : statement.body) RecordSkipped(inner, keyword);
  for (const Statement& inner : statement.orelse) RecordSkipped(inner, keyword);
}

// Whether a statement of the block lies in this statement's lines.
bool Interpreter::ContainsBlock(const Statement& statement) const {
  return statement.line < block_.end_line && statement.end_line > block_.begin_line;
}

Status Interpreter::ExecInContext(const Statement& statement) {
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
      if (statement.text == "break") breaking_ = true;
      if (statement.text == "continue") continuing_ = true;
      return Status::Ok();
    case Statement::Kind::kFor:
      return ExecFor(statement);
    case Statement::Kind::kClass:
      return ExecClass(statement);
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
        return Error(line, "a '" + statement.text + "' statement " + InBlockText(line) +
                               ": the importer reads "
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

Status Interpreter::ExecIf(const Statement& statement) {
  const Expr& condition = *statement.value;
  const bool main_guard =
      condition.kind == Expr::Kind::kCompare && condition.text == "==" &&
      ((condition.items[0]->kind == Expr::Kind::kName && condition.items[0]->text == "__name__") ||
       (condition.items[1]->kind == Expr::Kind::kName && condition.items[1]->text == "__name__"));
  if (main_guard) return ExecBlock(statement.body);
  const Value value = EvalTolerant(condition);
  const std::optional<bool> truth = Truth(value);
  const std::string tag = value.tag.empty() ? value.derived_tag : value.tag;
  if (truth && tag.empty()) return FoldIf(statement, *truth);
  if (Strict()) {
    const std::string why =
        !tag.empty() ? "it depends on the tagged variable " + tag +
                           ", which each subnet reduces, so the network's structure would "
                           "differ between subnets"
                     : "it is not a constant the importer knows" + UnknownReason(value);
    return Error(statement.line,
                 "an 'if' on '" + condition.source + "' " + InBlockText(statement.line) +
                     ": the importer cannot tell which branch the network takes (" + why +
                     "); conditions on constants (flag = True ... if flag:) are folded. "
                     "Remove the condition (cloudbook loads the data itself, so guards like "
                     "'if x_train is None' are not needed)");
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

Status Interpreter::ExecAssign(const Statement& statement) {
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

Status Interpreter::AssignTarget(const Expr& target, const Value& value, int line) {
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
    case Expr::Kind::kAttribute: {  // self.layer = Dense(...) in a Layer subclass
      const Value object = EvalTolerant(*target.object);
      if (object.is(Value::Kind::kInstance)) {
        object.instance->attributes[target.text] = value;
        return Status::Ok();
      }
    }
      [[fallthrough]];
    default:
      if (Strict()) {
        return Error(line, "cannot assign to '" + target.source + "' " + InBlockText(line) +
                               "; assign to plain names");
      }
      Note(line, "skipped the assignment to " + target.source);
      return Status::Ok();
  }
}

Status Interpreter::ExecExpression(const Statement& statement) {
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
  // super().__init__(**kwargs) in a Layer subclass: Keras' own bookkeeping.
  if (expr.object->kind == Expr::Kind::kAttribute &&
      expr.object->object->kind == Expr::Kind::kCall &&
      expr.object->object->object->kind == Expr::Kind::kName &&
      expr.object->object->object->text == "super") {
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
  if (path == "numpy.random.shuffle" && expr.arguments.size() == 1 &&
      expr.arguments[0].value->kind == Expr::Kind::kName) {
    // np.random.shuffle(idx) changes idx: bind what it becomes (or why it is not followed).
    return AssignTarget(*expr.arguments[0].value, EvalTolerant(expr), line);
  }
  if (path == "numpy.random.seed" || path == "keras.utils.set_random_seed" ||
      (callee.is(Value::Kind::kMethod) && callee.items[0].is(Value::Kind::kLayer) &&
       callee.text == "adapt" && !Strict())) {
    EvalTolerant(expr);  // the seed of the rows drawn; the data a Normalization adapts to
  }
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
    if (model_method && after_fit_in_block_) {  // predict / evaluate give the test data
      EvalTolerant(expr);
      if (callee.text != "predict") Note(line, "skipped: " + statement.source);
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
  const bool layer_adapt = callee.is(Value::Kind::kMethod) &&
                           (callee.items[0].is(Value::Kind::kInstance) ||
                            (callee.items[0].is(Value::Kind::kLayer) && callee.text == "adapt"));
  if (model_method || user_function || ignorable || layer_adapt) {
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

}  // namespace cloudbook::keras_import
