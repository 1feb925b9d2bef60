#include "maker/tagged_variables.h"

#include <algorithm>
#include <cctype>

#include "shared/spelling.h"

namespace cloudbook {
namespace {

constexpr char kVarForms[] =
    "_NEURON_<k>, _FILTERS_<k>, _EMBEDDING_<k>, _CELL_<k> (k = 1, 2, ...) and _EPOCHS";

}  // namespace

const std::vector<std::string>& TaggedFamilies() {
  static const auto* families =
      new std::vector<std::string>{"_NEURON_", "_FILTERS_", "_EMBEDDING_", "_CELL_"};
  return *families;
}

int64_t TaggedIndex(const std::string& name, const std::string& family) {
  if (name.compare(0, family.size(), family) != 0) return 0;
  const std::string digits = name.substr(family.size());
  if (digits.empty() || digits.size() > 9 || digits[0] == '0') return 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
  }
  return std::stoll(digits);
}

bool IsTaggedVariable(const std::string& name) {
  if (name == kEpochsVariable) return true;
  for (const std::string& family : TaggedFamilies()) {
    if (TaggedIndex(name, family) > 0) return true;
  }
  return false;
}

// Why `name` is not a tagged variable name: compares against the canonical names with the
// same k, which catches _FILTER_1, _NEURONS_2, _EMBEDING_1, _EPOCHS_, _neuron_1, _NEURON_01.
std::string TaggedVariableProblem(const std::string& name) {
  size_t digits_begin = name.size();
  while (digits_begin > 0 && std::isdigit(static_cast<unsigned char>(name[digits_begin - 1]))) {
    --digits_begin;
  }
  std::string digits = name.substr(digits_begin);
  const bool has_digits = !digits.empty();
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  std::vector<std::string> candidates{kEpochsVariable};
  if (!digits.empty() && digits.size() <= 9) {
    for (const std::string& family : TaggedFamilies()) candidates.push_back(family + digits);
  }
  const std::string zero = has_digits && digits.empty() ? " (k counts from 1)" : "";
  return "unknown variable name '" + name + "'" + zero + "; tagged variables are " + kVarForms +
         DidYouMean(name, candidates);
}

}  // namespace cloudbook
