// Interpreter: evaluating expressions (numbers, names, attributes, subscripts, arithmetic)
// and calls of the program's functions, builtins and numpy.
#include "maker/keras_import/interpreter.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace cloudbook::keras_import {
namespace {

constexpr int kMaxCallDepth = 16;
// Bounds on what a hostile program can make the interpreter do: calls in total (nested calls
// can repeat exponentially), items and nesting of one value (a = a, a doubles it), the length
// of a string (s = s + s).
constexpr int kMaxCalls = 10000;
constexpr int64_t kMaxElements = 1000;
constexpr int kMaxValueNesting = 100;
constexpr size_t kMaxStringSize = 1 << 20;

bool TooLarge(const Value& value) {
  return value.elements > kMaxElements || value.nesting > kMaxValueNesting;
}

Value TooLargeValue(const Expr& expr) {
  return Value::Unknown(
      "'" + expr.source + "' makes a value larger than the importer follows (more than " +
          std::to_string(kMaxElements) + " items, " + std::to_string(kMaxValueNesting) +
          " levels or " + std::to_string(kMaxStringSize) + " characters)",
      expr.line, expr.source);
}

}  // namespace

Value Interpreter::EvalTolerant(const Expr& expr) {
  auto value = Eval(expr);
  if (value.ok()) return *value;
  // Keep the reason without the file prefix (added again where the value is used).
  std::string why = value.status().message();
  if (StartsWith(why, source_ + ":")) why = why.substr(why.find(": ", source_.size()) + 2);
  return Value::Unknown(why, expr.line, expr.source);
}

Result<Value> Interpreter::Eval(const Expr& expr) {
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
      Value sequence = Value::Sequence(std::move(items), expr.kind == Expr::Kind::kList);
      if (TooLarge(sequence)) return TooLargeValue(expr);
      return sequence;
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
      if (expr.text == "and" || expr.text == "or") return BooleanOperator(expr);
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
      if (expr.text == "not" && Truth(operand)) {
        Value result;
        result.kind = Value::Kind::kBool;
        result.number = *Truth(operand) ? 0 : 1;
        result.derived_tag = operand.tag.empty() ? operand.derived_tag : operand.tag;
        return result;
      }
      return Value::Unknown("'" + expr.source + "' is not followed", expr.line, expr.source);
    }
    case Expr::Kind::kCompare:
      return Compare(expr);
    case Expr::Kind::kIfElse:
      return IfElseValue(expr);
    case Expr::Kind::kDict:
    case Expr::Kind::kSlice:
    case Expr::Kind::kOpaque:
      return Value::Unknown("'" + expr.source + "' is not followed by the importer", expr.line,
                            expr.source);
  }
  return Value::Unknown("'" + expr.source + "'", expr.line, expr.source);
}

Result<Value> Interpreter::ParseNumber(const Expr& expr) {
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

Result<Value> Interpreter::Attribute(const Value& object, const Expr& expr) {
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
  if (object.is(Value::Kind::kInstance)) {
    const auto found = object.instance->attributes.find(name);
    if (found != object.instance->attributes.end()) return found->second;
  }
  Value method;
  method.kind = Value::Kind::kMethod;
  method.text = name;
  method.Contain(object);
  if (TooLarge(method)) return TooLargeValue(expr);
  method.items.push_back(object);
  method.line = expr.line;
  method.source = expr.source;
  return method;
}

Result<Value> Interpreter::EvalSubscript(const Expr& expr) {
  CB_ASSIGN_OR_RETURN(Value object, Eval(*expr.object));
  if (object.is(Value::Kind::kUnknown)) return object;
  if (expr.items.size() != 1) {
    return Value::Unknown("'" + expr.source + "' (multi-axis indexing) is not followed", expr.line,
                          expr.source);
  }
  const Expr& index = *expr.items[0];
  if (object.is(Value::Kind::kArray) || object.is(Value::Kind::kRows) ||
      (object.is(Value::Kind::kFile) && object.source == "npz")) {
    return SubscriptData(object, index, expr);
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
      return Value::Unknown("'" + expr.source + "' (a slice with a step)", expr.line, expr.source);
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

Result<Value> Interpreter::Binary(const Expr& expr, const Value& left, const Value& right) {
  const std::string& op = expr.text;
  const auto labels = [](const Value& value) {
    return value.is(Value::Kind::kArray) && value.array->labels && value.array->num_classes > 0;
  };
  if (labels(left) || labels(right)) return LabelElementwise(expr, op, left, right);
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
  if (left.is(Value::Kind::kTensor) && right.is(Value::Kind::kTensor) && op == "+") {
    return AddTensors(left, right, expr);
  }
  if (left.is(Value::Kind::kSequence) && right.is(Value::Kind::kSequence) && op == "+") {
    std::vector<Value> items = left.items;
    items.insert(items.end(), right.items.begin(), right.items.end());
    Value joined = Value::Sequence(std::move(items), left.is_list);
    if (TooLarge(joined)) return TooLargeValue(expr);
    return joined;
  }
  if (left.is(Value::Kind::kString) && right.is(Value::Kind::kString) && op == "+") {
    if (left.text.size() + right.text.size() > kMaxStringSize) return TooLargeValue(expr);
    return Value::String(left.text + right.text);
  }
  if (left.is(Value::Kind::kArray) && right.is(Value::Kind::kNumber) && (op == "/" || op == "*") &&
      right.number > 0) {
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

Result<CallArgs> Interpreter::EvalArguments(const Expr& call) {
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

Result<Value> Interpreter::EvalCall(const Expr& expr) {
  auto value = EvalCallHere(expr);
  if (!value.ok()) return AtLine(value.status(), expr.line);
  return value;
}

Result<Value> Interpreter::EvalCallHere(const Expr& expr) {
  CB_ASSIGN_OR_RETURN(Value callee, Eval(*expr.object));
  if (callee.is(Value::Kind::kUnknown)) return callee;
  CB_ASSIGN_OR_RETURN(CallArgs args, EvalArguments(expr));
  switch (callee.kind) {
    case Value::Kind::kModule:
      return CallModule(Canonical(callee.text), args, expr);
    case Value::Kind::kFunction:
      return CallFunction(callee, args.positional, expr.line, args.keywords);
    case Value::Kind::kClass:
      return Instantiate(callee, args, expr);
    case Value::Kind::kInstance:
      return CallInstance(callee, args, expr);
    case Value::Kind::kMethod:
      return CallMethod(callee.items[0], callee.text, args, expr);
    case Value::Kind::kLayer:
      return ApplyLayer(callee.layer, args, expr);
    case Value::Kind::kModel:
      return ApplyModel(*callee.model, args, expr);
    default:
      return Value::Unknown("'" + expr.source + "' calls " + Describe(callee), expr.line,
                            expr.source);
  }
}

Result<Value> Interpreter::CallFunction(
    const Value& function, const std::vector<Value>& arguments, int line,
    const std::vector<std::pair<std::string, Value>>& keywords) {
  const Statement& def = *function.function;
  called_.insert(def.text);
  if (++calls_ > kMaxCalls) {
    return Value::Unknown("the program calls its functions more than " + std::to_string(kMaxCalls) +
                              " times; the importer follows no more than that",
                          line);
  }
  if (static_cast<int>(frames_.size()) >= kMaxCallDepth) {
    return Value::Unknown("calls nest too deeply (recursion?)", line);
  }
  Frame frame;
  for (size_t i = 0; i < def.parameters.size(); ++i) {
    const std::string& name = def.parameters[i];
    Value value =
        Value::Unknown("the parameter '" + name + "' of " + def.text + "() has no value", def.line);
    if (i < arguments.size()) {
      value = arguments[i];
    } else if (i < def.defaults.size() && def.defaults[i]) {
      value = EvalTolerant(*def.defaults[i]);
    }
    for (const auto& [keyword, given] : keywords) {
      if (keyword == name) value = given;
    }
    frame.locals[name] = value;
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

Result<Value> Interpreter::CallModule(const std::string& path, const CallArgs& args,
                                      const Expr& expr) {
  const int line = expr.line;
  bool handled = false;
  auto data = CallDataFunction(path, args, expr, &handled);
  if (handled) {
    // A data loader given what cannot be carried stops the import wherever it is written.
    if (!data.ok() && fatal_.ok()) fatal_ = AtLine(data.status(), line);
    return data;
  }
  if (StartsWith(path, "keras.")) return CallKeras(path, args, expr);
  if (path == "builtins.print") return Value();
  if (path == "builtins.range" || path == "builtins.enumerate" || path == "builtins.zip") {
    return Iteration(LastPart(path), args, expr);
  }
  if ((path == "builtins.list" || path == "builtins.tuple") && args.positional.size() == 1 &&
      args.positional[0].is(Value::Kind::kSequence)) {
    Value copy = args.positional[0];
    copy.is_list = path == "builtins.list";
    return copy;
  }
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
    const Value& of = args.positional[0];
    Value result = path == "builtins.int" ? Value::Number(std::trunc(of.number), true)
                                          : Value::Number(of.number, false);
    // A width never loses its tag on the way: int() of a tagged whole number is that variable
    // (its reduced value is whole too); anything else computed from one stays marked as
    // computed, and a layer refuses it with the line (issue 17).
    if (path == "builtins.int" && !of.tag.empty() && of.integer) {
      result.tag = of.tag;
    } else {
      result.derived_tag = of.tag.empty() ? of.derived_tag : of.tag;
    }
    return result;
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

}  // namespace cloudbook::keras_import
