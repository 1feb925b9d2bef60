// Rate limit for repeated warnings (a hostile or broken peer must not flood the log): at most
// `burst` lines per key and window, and the number suppressed is reported with the next line.
// Not thread-safe: each owner (the transport thread, the ZAP handler) keeps its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

#include "shared/tunables.h"

namespace cloudbook {

class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::milliseconds window = GetTunables().log_throttle_window_ms,
                       size_t burst = GetTunables().log_throttle_burst);

  // True when a line for `key` may be logged now; `suppressed` (if given) receives how many
  // lines for this key were refused since the last allowed one.
  bool Allow(const std::string& key, size_t* suppressed = nullptr);

 private:
  struct Bucket {
    std::chrono::steady_clock::time_point window_start;
    size_t allowed = 0;
    size_t suppressed = 0;
  };
  std::chrono::milliseconds window_;
  size_t burst_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace cloudbook
