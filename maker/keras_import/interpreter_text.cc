// The spelling helpers shared by the interpreter's parts (interpreter.h).
#include "maker/keras_import/interpreter.h"

#include <limits>
#include <string>
#include <vector>

namespace cloudbook::keras_import {

std::string Canonical(const std::string& path) {
  static const std::vector<std::string> prefixes = {"tensorflow.python.keras",
                                                    "tensorflow.compat.v2.keras",
                                                    "tensorflow.keras", "tf_keras", "keras.src"};
  for (const std::string& prefix : prefixes) {
    if (path == prefix) return "keras";
    if (path.rfind(prefix + ".", 0) == 0) return "keras" + path.substr(prefix.size());
  }
  return path;
}

std::string LastPart(const std::string& path) { return path.substr(path.rfind('.') + 1); }

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

int64_t Product(const std::vector<int64_t>& shape) {
  int64_t product = 1;
  for (int64_t dim : shape) {
    if (__builtin_mul_overflow(product, dim, &product)) return std::numeric_limits<int64_t>::max();
  }
  return product;
}

}  // namespace cloudbook::keras_import
