#include "agent/transport/log_throttle.h"

namespace cloudbook {

LogThrottle::LogThrottle(std::chrono::milliseconds window, size_t burst)
    : window_(window), burst_(burst) {}

bool LogThrottle::Allow(const std::string& key, size_t* suppressed) {
  const auto now = std::chrono::steady_clock::now();
  if (buckets_.size() > 1024) buckets_.clear();  // keys come from peers: stay bounded
  Bucket& bucket = buckets_[key];
  if (bucket.allowed == 0 || now - bucket.window_start >= window_) {
    bucket.window_start = now;
    bucket.allowed = 0;
  }
  if (bucket.allowed >= burst_) {
    ++bucket.suppressed;
    return false;
  }
  ++bucket.allowed;
  if (suppressed != nullptr) *suppressed = bucket.suppressed;
  bucket.suppressed = 0;
  return true;
}

}  // namespace cloudbook
