#include "agent/runtime/announced_keys.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace cloudbook {

AnnouncedKeyCache::AnnouncedKeyCache(Scan scan, std::chrono::milliseconds min_rescan_interval)
    : scan_(std::move(scan)),
      min_rescan_interval_(min_rescan_interval),
      thread_([this] { Loop(); }) {}

AnnouncedKeyCache::~AnnouncedKeyCache() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  scanned_.notify_all();
  thread_.join();
}

bool AnnouncedKeyCache::Find(const std::string& key, std::string* agent_id) {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto lookup = [&] {
    const auto found = keys_.find(key);
    if (found == keys_.end()) return false;
    *agent_id = found->second;
    return true;
  };
  if (lookup()) return true;
  const auto now = std::chrono::steady_clock::now();
  const bool wait = now >= last_wait_ + min_rescan_interval_;
  const bool wake = !rescan_wanted_ || (wait && !urgent_);
  rescan_wanted_ = true;
  if (wait) {
    urgent_ = true;
    last_wait_ = now;
  }
  if (wake) wake_.notify_one();
  if (!wait) return false;
  const size_t before = rescans_;
  scanned_.wait_for(lock, kUnknownKeyWait, [&] { return stopping_ || rescans_ != before; });
  return lookup();
}

void AnnouncedKeyCache::Replace(KeyMap keys) {
  std::lock_guard<std::mutex> lock(mutex_);
  keys_ = std::move(keys);
  last_scan_ = std::chrono::steady_clock::now();
}

size_t AnnouncedKeyCache::rescans() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rescans_;
}

void AnnouncedKeyCache::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || rescan_wanted_; });
    if (stopping_) return;
    // At most one scan per interval, counting the periodic refresh's, unless a Find waits.
    while (!stopping_ && !urgent_ &&
           std::chrono::steady_clock::now() < last_scan_ + min_rescan_interval_) {
      wake_.wait_until(lock, last_scan_ + min_rescan_interval_);
    }
    if (stopping_) return;
    rescan_wanted_ = false;
    urgent_ = false;
    lock.unlock();
    KeyMap keys;
    bool scanned = false;
    try {
      keys = scan_();
      scanned = true;
    } catch (const std::exception& error) {
      spdlog::warn("rescanning the announced agents' keys failed: {}", error.what());
    }
    lock.lock();
    if (scanned) keys_ = std::move(keys);
    last_scan_ = std::chrono::steady_clock::now();
    ++rescans_;
    scanned_.notify_all();
  }
}

}  // namespace cloudbook
