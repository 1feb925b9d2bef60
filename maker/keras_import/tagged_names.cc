#include "maker/keras_import/tagged_names.h"

#include <algorithm>
#include <cctype>

#include "maker/tagged_variables.h"
#include "shared/spelling.h"

namespace cloudbook::keras_import {
namespace {

const std::vector<std::string>& DataNames() {
  static const auto* names =
      new std::vector<std::string>{"_DATA_TRAIN_X", "_DATA_TRAIN_Y", "_DATA_VAL_X",
                                   "_DATA_VAL_Y",   "_DATA_TEST_X",  "_DATA_TEST_Y"};
  return *names;
}

// sk_tool's reading (get_var_from_list): the text before the first run of digits must be
// one of its prefixes ("_EMBEDDING_", "_NEURON_", "_CELL_", "_EPOCHS", "_FILTERS_"), or the
// whole name one of them when it has no digits. Returns the canonical name it reduced.
std::string OriginalReading(const std::string& name) {
  const std::vector<std::string> prefixes = {"_EMBEDDING_", "_NEURON_", "_CELL_", "_EPOCHS",
                                             "_FILTERS_"};
  const size_t digits = name.find_first_of("0123456789");
  if (digits == std::string::npos) {
    return std::find(prefixes.begin(), prefixes.end(), name) != prefixes.end() ? name : "";
  }
  const std::string prefix = name.substr(0, digits);
  if (std::find(prefixes.begin(), prefixes.end(), prefix) == prefixes.end()) return "";
  size_t end = digits;
  while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
  const std::string number = name.substr(digits, end - digits);
  const size_t nonzero = number.find_first_not_of('0');
  const std::string k = nonzero == std::string::npos ? "0" : number.substr(nonzero);
  return prefix == "_EPOCHS" ? "_EPOCHS" : prefix + k;
}

}  // namespace

NameCheck CheckName(const std::string& name) {
  NameCheck check;
  if (name.size() < 2 || name[0] != '_' || name[1] == '_') return check;
  if (name == "_EPOCHS") {
    check.role = NameRole::kTagged;
    check.original_reading = name;
    return check;
  }
  for (const std::string& family : TaggedFamilies()) {
    if (TaggedIndex(name, family) > 0) {
      check.role = NameRole::kTagged;
      check.original_reading = name;
      return check;
    }
  }
  if (std::find(DataNames().begin(), DataNames().end(), name) != DataNames().end()) {
    check.role = NameRole::kData;
    return check;
  }
  check.original_reading = OriginalReading(name);
  // The same k at the end of the name: _FILTER_1 -> _FILTERS_1, _NEURONS_2 -> _NEURON_2.
  size_t digits_begin = name.size();
  while (digits_begin > 0 && std::isdigit(static_cast<unsigned char>(name[digits_begin - 1]))) {
    --digits_begin;
  }
  const std::string digits = name.substr(digits_begin);
  const size_t nonzero = digits.find_first_not_of('0');
  const std::string k = nonzero == std::string::npos ? "" : digits.substr(nonzero);
  std::vector<std::string> candidates{"_EPOCHS"};
  for (const std::string& data : DataNames()) candidates.push_back(data);
  for (const std::string& family : TaggedFamilies()) {
    if (!k.empty()) candidates.push_back(family + k);
    if (digits.empty()) candidates.push_back(family);  // _EMBEDING_ -> _EMBEDDING_<k>
  }
  std::string best = ClosestSpelling(name, candidates);
  if (!digits.empty() && k.empty()) {
    for (const std::string& family : TaggedFamilies()) {
      if (LowerCase(name.substr(0, digits_begin)) == LowerCase(family)) best = family + "<k>";
    }
    if (!best.empty()) check.why = "k counts from 1";
  } else if (!digits.empty() && digits[0] == '0' && !best.empty()) {
    check.why = "k is written without leading zeros";
  }
  if (best.empty() && !check.original_reading.empty()) best = check.original_reading;
  if (best.empty()) return check;
  if (best.back() == '_') best += "<k>";
  check.role = NameRole::kMisspelt;
  check.suggestion = best;
  return check;
}

}  // namespace cloudbook::keras_import
