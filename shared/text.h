// Small text helpers every component uses (lists in log lines and messages, case folding),
// written once. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace cloudbook {

// "a, b, c" ("" for none).
std::string Join(const std::vector<std::string>& items, const std::string& separator = ", ");

// "1, 2, 3" ("" for none).
template <typename Number>
std::string JoinNumbers(const std::vector<Number>& values, const std::string& separator = ", ") {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) {
    text += (i == 0 ? "" : separator) + std::to_string(values[i]);
  }
  return text;
}

// A number as a message shows it: "128", "0.001", "1e-05", "0.333333" (std::ostream's
// default: up to 6 significant digits).
std::string NumberText(double value);

// ASCII upper case ("high" -> "HIGH"); other bytes unchanged.
std::string Upper(std::string text);

}  // namespace cloudbook
