#include "shared/program.h"

namespace cloudbook {

const char* ProblemTypeName(ProblemType type) {
  switch (type) {
    case ProblemType::kMulticlass:
      return "multiclass";
    case ProblemType::kBinary:
      return "binary";
    case ProblemType::kRegression:
      return "regression";
  }
  return "unknown";  // unreachable for valid enum values; keeps -Wreturn-type quiet
}

}  // namespace cloudbook
