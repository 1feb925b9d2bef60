#include <string>

#include "fuzz/fuzz_entries.h"
#include "maker/program_parser.h"

namespace cloudbook {

Status ReplayProgram(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Result<Program> program = ParseProgramText(text, "fuzz.yaml");
  return program.status();
}

int FuzzProgram(const uint8_t* data, size_t size) {
  ReplayProgram(data, size);
  return 0;
}

}  // namespace cloudbook
