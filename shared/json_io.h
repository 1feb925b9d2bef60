// JSON files in the project folder: parse with a Status instead of an exception (a
// malformed file must never crash a process), and write atomically.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "shared/status.h"

namespace cloudbook {

using Json = nlohmann::json;

// Project files are small: a larger one is refused before reading, and a symlink is not
// followed (a shared folder written by others must not make a process read outside it).
inline constexpr size_t kMaxJsonFileBytes = 32 * 1024 * 1024;
Result<Json> ReadJsonFile(const std::string& path);

// object[key] when `object` is an object whose `key` converts to T, else `fallback`. Never
// throws (nlohmann's value() throws on a wrong type: files written elsewhere can have one).
template <typename T>
T ValueOr(const Json& object, const std::string& key, T fallback) {
  if (!object.is_object()) return fallback;
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return fallback;
  try {
    return found->get<T>();
  } catch (const Json::exception&) {
    return fallback;
  }
}

Result<Json> ParseJsonText(const std::string& text, const std::string& source);
// Pretty-printed (two spaces), newline-terminated, written with WriteFileAtomically.
Status WriteJsonFileAtomically(const std::string& path, const Json& value);

}  // namespace cloudbook
