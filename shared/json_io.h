// JSON files in the project folder: parse with a Status instead of an exception (a
// malformed file must never crash a process), and write atomically.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "shared/status.h"

namespace cloudbook {

using Json = nlohmann::json;

Result<Json> ReadJsonFile(const std::string& path);
Result<Json> ParseJsonText(const std::string& text, const std::string& source);
// Pretty-printed (two spaces), newline-terminated, written with WriteFileAtomically.
Status WriteJsonFileAtomically(const std::string& path, const Json& value);

}  // namespace cloudbook
