// Interpreter: control flow over constants (issue 17). Comparisons, and / or / not and
// `a if c else b` of known values; `if` on a constant folded (the taken branch read, the other
// not); `for` over a constant range or list unrolled (break / continue / else as Python).
// A condition or loop the importer cannot decide, or one that depends on a tagged variable
// (each subnet reduces it, so the structure would differ), is refused where the code is strict.
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "maker/keras_import/interpreter.h"

namespace cloudbook::keras_import {
namespace {

// Iterations the importer unrolls in one import (nested loops multiply).
constexpr int kMaxLoopSteps = 10000;
// Items of one range() (a loop that builds layers has a handful).
constexpr int64_t kMaxRangeItems = 1000;
// Expressions looked at for training changes after fit, over the whole import.
constexpr int kMaxChangeScans = 100000;

Value Bool(bool truth, const std::string& derived_tag = "") {
  Value value;
  value.kind = Value::Kind::kBool;
  value.number = truth ? 1 : 0;
  value.derived_tag = derived_tag;
  return value;
}

// The tagged variable a value was read or computed from ("" when none).
std::string TagOf(const Value& value) { return value.tag.empty() ? value.derived_tag : value.tag; }

bool IsObject(const Value& value) {
  switch (value.kind) {
    case Value::Kind::kModule:
    case Value::Kind::kFunction:
    case Value::Kind::kArray:
    case Value::Kind::kFile:
    case Value::Kind::kLayer:
    case Value::Kind::kTensor:
    case Value::Kind::kModel:
    case Value::Kind::kOptimizer:
    case Value::Kind::kLoss:
      return true;
    default:
      return false;
  }
}

bool IsPlain(const Value& value) {
  return value.is(Value::Kind::kNumber) || value.is(Value::Kind::kBool) ||
         value.is(Value::Kind::kString) || value.is(Value::Kind::kNone);
}

// Equality of plain values (numbers and bools compare by value, as in Python).
std::optional<bool> Equal(const Value& a, const Value& b) {
  const bool a_number = a.is(Value::Kind::kNumber) || a.is(Value::Kind::kBool);
  const bool b_number = b.is(Value::Kind::kNumber) || b.is(Value::Kind::kBool);
  if (a_number && b_number) return a.number == b.number;
  if (a.is(Value::Kind::kString) && b.is(Value::Kind::kString)) return a.text == b.text;
  if (a.is(Value::Kind::kNone) || b.is(Value::Kind::kNone)) {
    if (a.is(Value::Kind::kUnknown) || b.is(Value::Kind::kUnknown)) return std::nullopt;
    return a.is(Value::Kind::kNone) && b.is(Value::Kind::kNone);
  }
  if (a.is(Value::Kind::kSequence) && b.is(Value::Kind::kSequence)) {
    if (a.items.size() != b.items.size()) return false;
    for (size_t i = 0; i < a.items.size(); ++i) {
      const auto same = Equal(a.items[i], b.items[i]);
      if (!same || !*same) return same;
    }
    return true;
  }
  if (IsPlain(a) && IsPlain(b)) return false;  // a number is not a string
  return std::nullopt;
}

}  // namespace

std::optional<bool> Interpreter::Truth(const Value& value) {
  switch (value.kind) {
    case Value::Kind::kBool:
    case Value::Kind::kNumber:
      return value.number != 0;
    case Value::Kind::kNone:
      return false;
    case Value::Kind::kString:
      return !value.text.empty();
    case Value::Kind::kSequence:
      return !value.items.empty();
    default:
      return std::nullopt;
  }
}

Result<Value> Interpreter::Compare(const Expr& expr) {
  if (expr.items[0]->kind == Expr::Kind::kCompare) {
    return Value::Unknown("'" + expr.source + "' (a chained comparison) is not followed", expr.line,
                          expr.source);
  }
  CB_ASSIGN_OR_RETURN(Value left, Eval(*expr.items[0]));
  CB_ASSIGN_OR_RETURN(Value right, Eval(*expr.items[1]));
  const std::string& op = expr.text;
  std::string tag = TagOf(left).empty() ? TagOf(right) : TagOf(left);
  const Value unknown = Value::Unknown(
      "'" + expr.source + "' compares values the importer does not know", expr.line, expr.source);
  if (left.is(Value::Kind::kUnknown)) return left;
  if (right.is(Value::Kind::kUnknown)) return right;
  for (const Value* side : {&left, &right}) {
    if (side->is(Value::Kind::kArray) && side->array->labels && side->array->num_classes > 0 &&
        op != "is" && op != "is not" && op != "in" && op != "not in") {
      return LabelElementwise(expr, op, left, right);
    }
  }
  if (op == "is" || op == "is not") {
    std::optional<bool> same;
    if (left.is(Value::Kind::kNone) || right.is(Value::Kind::kNone)) {
      // Anything the importer knows as a data array, layer or model is not None.
      if ((IsObject(left) || IsPlain(left)) && (IsObject(right) || IsPlain(right))) {
        same = left.is(Value::Kind::kNone) && right.is(Value::Kind::kNone);
      }
    } else if (left.is(Value::Kind::kBool) && right.is(Value::Kind::kBool)) {
      same = left.number == right.number;
    }
    if (!same) return unknown;
    return Bool(op == "is" ? *same : !*same, tag);
  }
  if (op == "in" || op == "not in") {
    if (!right.is(Value::Kind::kSequence)) {
      if (right.is(Value::Kind::kString) && left.is(Value::Kind::kString)) {
        const bool found = right.text.find(left.text) != std::string::npos;
        return Bool(op == "in" ? found : !found, tag);
      }
      return unknown;
    }
    bool found = false;
    for (const Value& item : right.items) {
      const auto same = Equal(left, item);
      if (!same) return unknown;
      if (!TagOf(item).empty() && tag.empty()) tag = TagOf(item);
      found = found || *same;
    }
    return Bool(op == "in" ? found : !found, tag);
  }
  if (op == "==" || op == "!=") {
    const auto same = Equal(left, right);
    if (!same) return unknown;
    return Bool(op == "==" ? *same : !*same, tag);
  }
  const bool numbers = (left.is(Value::Kind::kNumber) || left.is(Value::Kind::kBool)) &&
                       (right.is(Value::Kind::kNumber) || right.is(Value::Kind::kBool));
  const bool strings = left.is(Value::Kind::kString) && right.is(Value::Kind::kString);
  if (!numbers && !strings) return unknown;
  const int order = numbers ? (left.number < right.number   ? -1
                               : left.number > right.number ? 1
                                                            : 0)
                            : left.text.compare(right.text);
  if (op == "<") return Bool(order < 0, tag);
  if (op == "<=") return Bool(order <= 0, tag);
  if (op == ">") return Bool(order > 0, tag);
  if (op == ">=") return Bool(order >= 0, tag);
  return unknown;
}

// and / or with Python's short circuit: the value of the side that decides.
Result<Value> Interpreter::BooleanOperator(const Expr& expr) {
  CB_ASSIGN_OR_RETURN(Value left, Eval(*expr.items[0]));
  const auto truth = Truth(left);
  if (!truth) {
    if (left.is(Value::Kind::kUnknown)) return left;
    return Value::Unknown("'" + expr.source + "' is not followed", expr.line, expr.source);
  }
  const bool decided = expr.text == "and" ? !*truth : *truth;
  if (decided) return left;
  CB_ASSIGN_OR_RETURN(Value right, Eval(*expr.items[1]));
  if (right.derived_tag.empty() && right.tag.empty()) right.derived_tag = TagOf(left);
  return right;
}

Result<Value> Interpreter::IfElseValue(const Expr& expr) {
  CB_ASSIGN_OR_RETURN(Value condition, Eval(*expr.items[1]));
  const auto truth = Truth(condition);
  if (!truth || !TagOf(condition).empty()) {
    return Value::Unknown("'" + expr.source + "': the condition is not a constant the importer " +
                              "knows" + UnknownReason(condition),
                          expr.line, expr.source);
  }
  return Eval(*expr.items[*truth ? 0 : 2]);
}

Value Interpreter::Iteration(const std::string& builtin, const CallArgs& args, const Expr& expr) {
  const auto unknown = [&](const std::string& why) {
    return Value::Unknown("'" + expr.source + "' " + why, expr.line, expr.source);
  };
  if (!args.keywords.empty()) return unknown("with keyword arguments is not followed");
  if (builtin == "range") {
    if (args.positional.empty() || args.positional.size() > 3) return unknown("is not followed");
    std::vector<int64_t> bounds;
    for (const Value& value : args.positional) {
      if (!TagOf(value).empty()) {
        return unknown("depends on the tagged variable " + TagOf(value) +
                       ", which each subnet reduces: the network's structure must not depend "
                       "on it (give the count as a plain number)");
      }
      auto number = WholeNumber(value, "a bound of range()");
      if (!number.ok())
        return unknown("has a bound that is not a known whole number" + UnknownReason(value));
      bounds.push_back(*number);
    }
    int64_t begin = 0;
    int64_t end = bounds[0];
    int64_t step = 1;
    if (bounds.size() > 1) {
      begin = bounds[0];
      end = bounds[1];
    }
    if (bounds.size() > 2) step = bounds[2];
    if (step == 0) return unknown("has a step of 0");
    std::vector<Value> items;
    for (int64_t i = begin; step > 0 ? i < end : i > end; i += step) {
      if (static_cast<int64_t>(items.size()) >= kMaxRangeItems) {
        return unknown("has more than " + std::to_string(kMaxRangeItems) +
                       " items; the importer unrolls small loops only");
      }
      items.push_back(Value::Number(static_cast<double>(i), true));
    }
    return Value::Sequence(std::move(items), true);
  }
  std::vector<const Value*> sequences;
  for (const Value& value : args.positional) {
    if (value.is(Value::Kind::kUnknown)) return value;
    if (!value.is(Value::Kind::kSequence))
      return unknown("of " + Describe(value) + " is not followed");
    sequences.push_back(&value);
  }
  std::vector<Value> items;
  if (builtin == "enumerate" && sequences.size() == 1) {
    for (size_t i = 0; i < sequences[0]->items.size(); ++i) {
      items.push_back(Value::Sequence(
          {Value::Number(static_cast<double>(i), true), sequences[0]->items[i]}, false));
    }
    return Value::Sequence(std::move(items), true);
  }
  if (builtin == "zip" && !sequences.empty()) {
    size_t length = sequences[0]->items.size();
    for (const Value* sequence : sequences) length = std::min(length, sequence->items.size());
    for (size_t i = 0; i < length; ++i) {
      std::vector<Value> tuple;
      for (const Value* sequence : sequences) tuple.push_back(sequence->items[i]);
      items.push_back(Value::Sequence(std::move(tuple), false));
    }
    return Value::Sequence(std::move(items), true);
  }
  return unknown("is not followed");
}

Status Interpreter::FoldIf(const Statement& statement, bool taken) {
  Note(statement.line, std::string("folded the constant condition of '") + statement.source +
                           "': " + (taken ? "its body" : "the else branch") + " is read");
  return ExecBlock(taken ? statement.body : statement.orelse);
}

Status Interpreter::ExecFor(const Statement& statement) {
  const int line = statement.line;
  if (ContainsBlock(statement) && !block_.Contains(line)) {
    return Error(line,
                 "the SKYNNET block is inside a 'for' loop; put the block at the top "
                 "level of the program or of a function");
  }
  bool image_loop = false;  // for ... in os.listdir(root): an image folder
  CB_RETURN_IF_ERROR(ExecImageFolderLoop(statement, &image_loop));
  if (image_loop) return Status::Ok();
  const Value iterable = EvalTolerant(*statement.value);
  std::string why;
  if (iterable.is(Value::Kind::kSequence)) {
    for (const Value& item : iterable.items) {
      if (item.is(Value::Kind::kUnknown)) why = UnknownReason(item);
    }
  } else {
    why = iterable.is(Value::Kind::kUnknown) ? UnknownReason(iterable)
                                             : ": it iterates over " + Describe(iterable);
  }
  if (why.empty() && loop_steps_ + static_cast<int>(iterable.items.size()) > kMaxLoopSteps) {
    why = ": the program's loops run more than " + std::to_string(kMaxLoopSteps) +
          " iterations, more than the importer unrolls";
  }
  if (!why.empty()) {
    if (Strict()) {
      return Error(line, "a 'for' loop over '" + statement.value->source + "' " +
                             InBlockText(line) +
                             ": the importer unrolls loops over a constant range or list only (" +
                             "for i in range(3):, for units in [64, 32]:)" + why);
    }
    RecordSkipped(statement, "for");
    Note(line, "skipped a 'for' loop the importer cannot unroll" + why + ": " + statement.source);
    return Status::Ok();
  }
  loop_steps_ += static_cast<int>(iterable.items.size());
  bool broke = false;
  for (const Value& item : iterable.items) {
    CB_RETURN_IF_ERROR(AssignTarget(*statement.targets[0], item, line));
    CB_RETURN_IF_ERROR(ExecBlock(statement.body));
    continuing_ = false;
    if (returning_) return Status::Ok();
    if (breaking_) {
      breaking_ = false;
      broke = true;
      break;
    }
  }
  if (!broke) return ExecBlock(statement.orelse);
  return Status::Ok();
}

void Interpreter::SummaryNote(int line, const std::string& what) {
  summary_notes_.push_back(source_ + ":" + std::to_string(line) + ": " + what);
}

std::optional<std::pair<int, std::string>> Interpreter::TrainingChangeIn(const Expr& expr,
                                                                         int depth) {
  if (depth > 8) return std::nullopt;
  if (++change_scans_ > kMaxChangeScans) {  // refused rather than left unchecked
    return std::make_pair(expr.line, expr.source + " (calls nested too deeply to check)");
  }
  if (expr.kind == Expr::Kind::kCall && expr.object) {
    const Expr& callee = *expr.object;
    static const std::set<std::string> changing = {
        "fit", "compile", "add", "fit_generator", "train_on_batch", "load_weights", "set_weights"};
    if (callee.kind == Expr::Kind::kAttribute && changing.count(callee.text) > 0) {
      return std::make_pair(expr.line, expr.source);
    }
    if (callee.kind == Expr::Kind::kName) {  // a function of the program: its body too
      const Value function = Lookup(callee.text, expr.line);
      if (function.is(Value::Kind::kFunction)) {
        for (const Statement& inner : function.function->body) {
          auto found = TrainingChange(inner, depth + 1);
          if (found)
            return std::make_pair(expr.line, expr.source + " (line " +
                                                 std::to_string(found->first) + ": " +
                                                 found->second + ")");
        }
      }
    }
  }
  for (const ExprPtr& item : expr.items) {
    if (!item) continue;
    auto found = TrainingChangeIn(*item, depth);
    if (found) return found;
  }
  if (expr.object) {
    auto found = TrainingChangeIn(*expr.object, depth);
    if (found) return found;
  }
  for (const Argument& argument : expr.arguments) {
    if (!argument.value) continue;
    auto found = TrainingChangeIn(*argument.value, depth);
    if (found) return found;
  }
  return std::nullopt;
}

std::optional<std::pair<int, std::string>> Interpreter::TrainingChange(const Statement& statement,
                                                                       int depth) {
  if (statement.kind == Statement::Kind::kDef || statement.kind == Statement::Kind::kClass) {
    return std::nullopt;  // defining is not running
  }
  for (const ExprPtr& target : statement.targets) {
    if (target && target->kind == Expr::Kind::kName && vars_.count(target->text) > 0 &&
        statement.kind != Statement::Kind::kFor) {
      return std::make_pair(statement.line, statement.source);
    }
  }
  if (statement.value) {
    auto found = TrainingChangeIn(*statement.value, depth);
    if (found) return found;
  }
  for (const Block* block : {&statement.body, &statement.orelse}) {
    for (const Statement& inner : *block) {
      auto found = TrainingChange(inner, depth);
      if (found) return found;
    }
  }
  return std::nullopt;
}

Status Interpreter::ExecAfterFit(const Statement& statement, bool in_block) {
  const int line = statement.line;
  const std::string fit_line = std::to_string(fit_model_->fit_line);
  if (in_block || Strict()) {
    const auto change = TrainingChange(statement, 0);
    if (change) {
      return Error(change->first,
                   "'" + change->second + "' comes after the training (fit at line " + fit_line +
                       ") and could change it: cloudbook imports one model, one compile and "
                       "one fit; after fit only evaluating, predicting, printing, plotting and "
                       "saving are allowed (they are skipped)");
    }
  }
  switch (statement.kind) {
    case Statement::Kind::kIf:
    case Statement::Kind::kFor:
    case Statement::Kind::kOther:
    case Statement::Kind::kClass:
    case Statement::Kind::kUnparsed:
      RecordSkipped(statement, statement.kind == Statement::Kind::kFor ? "for" : statement.text);
      SummaryNote(line, "skipped after training: " + statement.source);
      return Status::Ok();
    default:
      break;
  }
  if (statement.kind == Statement::Kind::kExpression &&
      statement.value->kind == Expr::Kind::kCall &&
      statement.value->object->kind == Expr::Kind::kName &&
      Lookup(statement.value->object->text, line).is(Value::Kind::kFunction)) {
    SummaryNote(line, "skipped after training: " + statement.source);
    return Status::Ok();
  }
  const size_t notes = notes_.size();
  const int predicts = predict_calls_;
  const int saved_depth = strict_depth_;
  const bool saved_after = after_fit_in_block_;
  strict_depth_ = 0;  // tolerant: what cannot be followed is skipped, never an error
  after_fit_in_block_ = in_block;
  Status status = ExecInContext(statement);
  strict_depth_ = saved_depth;
  after_fit_in_block_ = saved_after;
  CB_RETURN_IF_ERROR(status);
  bool skipped = notes_.size() > notes;
  if (statement.kind == Statement::Kind::kAssign && predict_calls_ == predicts) {
    skipped = skipped || EvalTolerant(*statement.targets[0]).is(Value::Kind::kUnknown);
  }
  if (statement.kind == Statement::Kind::kExpression && predict_calls_ == predicts &&
      statement.value->kind == Expr::Kind::kCall) {
    skipped = true;
  }
  if (skipped) SummaryNote(line, "skipped after training: " + statement.source);
  return Status::Ok();
}

}  // namespace cloudbook::keras_import
