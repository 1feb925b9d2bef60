#include <string>

#include "fuzz/fuzz_entries.h"
#include "fuzz/fuzz_support.h"
#include "maker/keras_import/keras_import.h"

namespace cloudbook {

Status ReplayKerasImport(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Result<KerasImport> imported = ImportKerasProgram(text, "fuzz.py", "fuzz");
  if (imported.ok()) {
    // An import is only returned after its YAML parsed back; each layer has its .py line.
    FuzzCheck(!imported->yaml.empty(), "an accepted import has no YAML");
    FuzzCheck(imported->layer_lines.size() == imported->program.model.layers.size(),
              "an accepted import lacks a layer's line");
  }
  return imported.status();
}

int FuzzKerasImport(const uint8_t* data, size_t size) {
  ReplayKerasImport(data, size);
  return 0;
}

}  // namespace cloudbook
