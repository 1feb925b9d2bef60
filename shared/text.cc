#include "shared/text.h"

#include <cctype>
#include <sstream>

namespace cloudbook {

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) text += (i == 0 ? "" : separator) + items[i];
  return text;
}

std::string NumberText(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace cloudbook
