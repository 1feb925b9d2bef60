// The layers a program may name and the parameters each takes (kind, count, default, valid
// words): the one table the program parser checks layers against; adding a layer starts here.
// Pure data built once; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace cloudbook::program_parsing {

enum class ParamKind { kInt, kReal, kWord, kBool };
// How many numbers a parameter takes: one; one or [h, w]; a list of any length (shape).
enum class Arity { kOne, kOneOrTwo, kList };

struct ParamRule {
  std::string name;
  ParamKind kind;
  bool required;
  Arity arity;
  std::vector<double> default_numbers;  // empty: none
  std::string default_word;             // empty: none
  std::vector<std::string> words;       // kWord: the valid values
};

struct LayerRule {
  std::string type;
  std::vector<ParamRule> params;
};

// In the order messages list them.
const std::vector<LayerRule>& LayerRules();
std::vector<std::string> LayerTypes();
// The rule for `type`, or nullptr for a type the program format does not have.
const LayerRule* FindLayerRule(const std::string& type);

// Why a real-valued layer parameter is out of range, or "" when it is fine.
std::string RealRangeProblem(const std::string& param, double value);

}  // namespace cloudbook::program_parsing
