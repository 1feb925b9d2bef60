// Logs a message for a key only when it differs from the last one logged for that key, so a
// loop that looks at the shared folder every half second reports a malformed file or a
// standing problem once, not twice a second. Forget(key) re-arms a key once the problem is
// gone.
#pragma once

#include <spdlog/spdlog.h>

#include <map>
#include <string>

namespace cloudbook {

class OnceLog {
 public:
  // True when logged (new key or new message).
  bool Log(spdlog::level::level_enum level, const std::string& key, const std::string& message) {
    auto& last = last_[key];
    if (last == message) return false;
    last = message;
    spdlog::log(level, "{}", message);
    return true;
  }
  void Forget(const std::string& key) { last_.erase(key); }

 private:
  std::map<std::string, std::string> last_;
};

}  // namespace cloudbook
