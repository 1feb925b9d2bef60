#include "maker/program_fields.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <system_error>

#include "maker/tagged_variables.h"
#include "shared/spelling.h"
#include "shared/text.h"

namespace cloudbook::program_parsing {
namespace {

std::string JoinPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// The whole of `text` as a T, with an optional leading '+' (from_chars takes none);
// locale-independent, unlike strtod.
template <typename T>
bool ParseDecimal(const std::string& text, T* out) {
  const char* begin = text.c_str();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  if (begin == end || *begin == '+') return false;
  const auto [stop, error] = std::from_chars(begin, end, *out);
  return error == std::errc() && stop == end;
}

// Plain decimal integers only ("128", "-1", "+3"); "2.5" and "1e3" are not integers.
bool ParseInt(const std::string& text, int64_t* out) { return ParseDecimal(text, out); }

// True for digit strings too long for int64_t, so the message says "too large", not
// "not an integer".
bool IsHugeInt(const std::string& text) {
  const size_t start = !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
  return text.size() > start &&
         std::all_of(text.begin() + static_cast<long>(start), text.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// Finite decimal numbers.
bool ParseReal(const std::string& text, double* out) {
  return ParseDecimal(text, out) && std::isfinite(*out);
}

}  // namespace

const Field* Find(const Entries& entries, const std::string& key) {
  for (const auto& [name, field] : entries) {
    if (name == key) return &field;
  }
  return nullptr;
}

int LineOf(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}
// The i-th element of a list; a null element has no useful mark, so it borrows the list's.
Field Element(const Field& list, size_t i) {
  Field element{list.node[i], list.path + "[" + std::to_string(i) + "]", 0};
  element.line = LineOf(element.node);
  if (element.line == 0 || element.node.IsNull()) element.line = list.line;
  return element;
}

bool Contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

const char* KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    default:
      return "nothing";
  }
}

Status FieldReader::Error(const Field& at, const std::string& what) const {
  std::string message = source_;
  if (at.line > 0) message += ":" + std::to_string(at.line);
  message += ": ";
  if (!at.path.empty()) message += at.path + ": ";
  return Status::InvalidArgument(message + what);
}

Status FieldReader::Missing(const Field& parent, const std::string& key,
                            const std::string& noun) const {
  return Error(parent, "missing required " + noun + " '" + key + "'");
}

Result<Entries> FieldReader::Mapping(const Field& field, const std::vector<std::string>* valid,
                                     const std::string& noun) const {
  if (!field.node.IsMap()) {
    std::string expected = "expected a mapping";
    if (valid != nullptr && !valid->empty()) expected += " with keys " + Join(*valid);
    return Error(field, expected + ", got " + KindOf(field.node));
  }
  Entries entries;
  for (const auto& entry : field.node) {
    Field at{field.node, field.path, LineOf(entry.first)};
    if (!entry.first.IsScalar()) {
      return Error(at,
                   std::string("a ") + noun + " must be a plain word, got " + KindOf(entry.first));
    }
    const std::string key = entry.first.Scalar();
    if (Find(entries, key) != nullptr) return Error(at, noun + " '" + key + "' appears twice");
    if (valid != nullptr && !Contains(*valid, key)) {
      const std::string listing =
          valid->empty() ? "; it takes none" : "; valid: " + Join(*valid) + DidYouMean(key, *valid);
      return Error(at, "unknown " + noun + " '" + key + "'" + listing);
    }
    entries.emplace_back(key, Field{entry.second, JoinPath(field.path, key), at.line});
  }
  return entries;
}

Result<std::string> FieldReader::Text(const Field& field, const std::string& expected) const {
  if (!field.node.IsScalar()) {
    return Error(field, "expected " + expected + ", got " + KindOf(field.node));
  }
  return field.node.Scalar();
}

Result<std::string> FieldReader::Word(const Field& field,
                                      const std::vector<std::string>& valid) const {
  CB_ASSIGN_OR_RETURN(const std::string word, Text(field, "one of " + Join(valid)));
  if (!Contains(valid, word)) {
    return Error(field,
                 "unknown value '" + word + "'; valid: " + Join(valid) + DidYouMean(word, valid));
  }
  return word;
}

Result<bool> FieldReader::Bool(const Field& field) const {
  CB_ASSIGN_OR_RETURN(const std::string text, Text(field, "true or false"));
  const std::string word = LowerCase(text);
  if (word == "true" || word == "yes" || word == "on") return true;
  if (word == "false" || word == "no" || word == "off") return false;
  return Error(field, "expected true or false, got '" + text + "'");
}

Result<int64_t> FieldReader::Int(const Field& field, int64_t min) const {
  CB_ASSIGN_OR_RETURN(const std::string text, Text(field, "an integer"));
  int64_t value = 0;
  double real = 0;
  if (!ParseInt(text, &value)) {
    if (!text.empty() && text[0] == '_') {
      return Error(
          field, "must be a literal integer (variables are not allowed here), got '" + text + "'");
    }
    if (IsHugeInt(text)) return Error(field, "'" + text + "' is too large");
    if (ParseReal(text, &real)) return Error(field, "must be an integer, got '" + text + "'");
    return Error(field, "expected an integer, got '" + text + "'");
  }
  if (value < min) {
    return Error(field, "must be an integer >= " + std::to_string(min) + ", got '" + text + "'");
  }
  return value;
}

Result<double> FieldReader::Real(const Field& field) const {
  CB_ASSIGN_OR_RETURN(const std::string text, Text(field, "a number"));
  double value = 0;
  if (!ParseReal(text, &value)) return Error(field, "expected a number, got '" + text + "'");
  return value;
}

Result<NumberOrVar> FieldReader::Number(const Field& field, bool integer) const {
  const std::string expected =
      std::string(integer ? "an integer" : "a number") + " or a tagged variable (e.g. _NEURON_1)";
  CB_ASSIGN_OR_RETURN(const std::string text, Text(field, expected));
  NumberOrVar number;
  if (!text.empty() && text[0] == '_') {
    const auto var = vars_.find(text);
    if (var == vars_.end()) {
      std::vector<std::string> defined;
      for (const auto& [name, value] : vars_) defined.push_back(name);
      // A well-formed name was simply not defined; only a misspelling gets a suggestion
      // (suggesting _NEURON_1 for an undefined _NEURON_7 would mislead).
      const std::string hint = IsTaggedVariable(text) ? "" : DidYouMean(text, defined);
      return Error(field, "unknown variable '" + text +
                              "' (define it under vars); defined: " + Join(defined) + hint);
    }
    number.var = text;
    number.value = static_cast<double>(var->second);  // the unreduced value, for checks
    return number;
  }
  int64_t whole = 0;
  if (ParseInt(text, &whole)) {
    number.value = static_cast<double>(whole);
    return number;
  }
  if (IsHugeInt(text)) return Error(field, "'" + text + "' is too large");
  if (!ParseReal(text, &number.value)) {
    return Error(field, "expected " + expected + ", got '" + text + "'");
  }
  if (integer) return Error(field, "must be an integer, got '" + text + "'");
  return number;
}

void FieldReader::DefineVar(const std::string& name, int64_t value, const Field& field) {
  vars_[name] = value;
  var_fields_[name] = field;
}

}  // namespace cloudbook::program_parsing
