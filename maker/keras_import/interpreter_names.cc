// Interpreter: assignments to the special names (tagged variables, _DATA_ variables, their
// misspellings) and the warnings about what the original sk_tool did with them.
#include "maker/keras_import/interpreter.h"

#include <cmath>
#include <string>

#include "maker/keras_import/tagged_names.h"
#include "shared/text.h"

namespace cloudbook::keras_import {
namespace {

// Far above any width or epoch count; keeps the value a whole number an int64_t holds.
constexpr double kMaxTaggedValue = 1e9;

}  // namespace

bool Interpreter::IsLiteralNumber(const Expr& expr) {
  if (expr.kind == Expr::Kind::kNumber) return true;
  return expr.kind == Expr::Kind::kUnary && (expr.text == "-" || expr.text == "+") &&
         expr.items[0]->kind == Expr::Kind::kNumber;
}

// Tagged variables get their value recorded (and a tag on the number); misspelt ones a
// warning saying what sk_tool would have done.
Status Interpreter::CheckSpecialName(const std::string& name, const Expr& rhs, Value* value,
                                     int line) {
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
      if (value->is(Value::Kind::kNumber)) number = " (" + NumberText(value->number) + ")";
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
      value->number < 1 || value->number > kMaxTaggedValue) {
    const std::string why =
        "the tagged variable " + name +
        " must be a whole number >= 1 (a width or the epochs, at most 10^9); got " +
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

}  // namespace cloudbook::keras_import
