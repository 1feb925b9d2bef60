#include "maker/keras_import/tagged_names.h"

#include <algorithm>
#include <cctype>

namespace cloudbook::keras_import {
namespace {

const std::vector<std::string>& Families() {
  static const auto* families =
      new std::vector<std::string>{"_NEURON_", "_FILTERS_", "_EMBEDDING_", "_CELL_"};
  return *families;
}

const std::vector<std::string>& DataNames() {
  static const auto* names =
      new std::vector<std::string>{"_DATA_TRAIN_X", "_DATA_TRAIN_Y", "_DATA_VAL_X",
                                   "_DATA_VAL_Y",   "_DATA_TEST_X",  "_DATA_TEST_Y"};
  return *names;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;
  for (const std::string& candidate : candidates) {
    if (candidate == word) continue;
    const size_t distance = EditDistance(Lower(word), Lower(candidate));
    if (distance < best_distance && distance < word.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
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

int TaggedIndex(const std::string& name, const std::string& family) {
  if (name.compare(0, family.size(), family) != 0) return 0;
  const std::string digits = name.substr(family.size());
  if (digits.empty() || digits.size() > 6 || digits[0] == '0') return 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
  }
  return std::stoi(digits);
}

std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string best = Closest(word, candidates);
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

NameCheck CheckName(const std::string& name) {
  NameCheck check;
  if (name.size() < 2 || name[0] != '_' || name[1] == '_') return check;
  if (name == "_EPOCHS") {
    check.role = NameRole::kTagged;
    check.original_reading = name;
    return check;
  }
  for (const std::string& family : Families()) {
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
  for (const std::string& family : Families()) {
    if (!k.empty()) candidates.push_back(family + k);
    if (digits.empty()) candidates.push_back(family);  // _EMBEDING_ -> _EMBEDDING_<k>
  }
  std::string best = Closest(name, candidates);
  if (!digits.empty() && k.empty()) {
    for (const std::string& family : Families()) {
      if (Lower(name.substr(0, digits_begin)) == Lower(family)) best = family + "<k>";
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
