#include "shared/json_io.h"

#include "shared/atomic_file.h"

namespace cloudbook {

Result<Json> ParseJsonText(const std::string& text, const std::string& source) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& error) {
    return Status::Corruption(source + ": not valid JSON: " + error.what());
  }
}

Result<Json> ReadJsonFile(const std::string& path) {
  Result<std::string> text = ReadRegularFileBounded(path, kMaxJsonFileBytes);
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) return text.status();
    return text.status().WithContext(path);
  }
  return ParseJsonText(*text, path);
}

Status WriteJsonFileAtomically(const std::string& path, const Json& value) {
  return WriteFileAtomically(path, value.dump(2) + "\n");
}

}  // namespace cloudbook
