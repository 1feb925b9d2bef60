#include "agent/runtime/announced_keys.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "shared/tunables.h"

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
  const Clock::time_point now = Clock::now();
  if (now >= window_start_ + min_rescan_interval_) {
    window_start_ = now;
    waited_in_window_ = Clock::duration::zero();
  }
  const Clock::duration left =
      std::min<Clock::duration>(GetTunables().unknown_key_wait_ms,
                                GetTunables().unknown_key_wait_budget_ms - waited_in_window_);
  const bool wait = left > Clock::duration::zero();
  rescan_wanted_ = true;
  urgent_ = urgent_ || wait;
  wake_.notify_one();
  if (!wait) return false;
  // A scan that starts after this key knocked: one in progress may predate its announcement.
  const uint64_t needed = scans_started_ + 1;
  scanned_.wait_for(lock, left, [&] { return stopping_ || scans_done_ >= needed; });
  waited_in_window_ += Clock::now() - now;
  return lookup();
}

void AnnouncedKeyCache::Replace(KeyMap keys) {
  std::lock_guard<std::mutex> lock(mutex_);
  keys_ = std::move(keys);
  last_scan_ = Clock::now();
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
    // Without a waiting key, at most one scan per interval, counting the periodic refresh's;
    // with one, soon, but never closer than urgent_rescan_gap_ms to the previous rescan.
    while (!stopping_) {
      const Clock::time_point due = urgent_ ? last_scan_start_ + GetTunables().urgent_rescan_gap_ms
                                            : last_scan_ + min_rescan_interval_;
      if (Clock::now() >= due) break;
      wake_.wait_until(lock, due);
    }
    if (stopping_) return;
    rescan_wanted_ = false;
    urgent_ = false;
    const uint64_t number = ++scans_started_;
    last_scan_start_ = Clock::now();
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
    last_scan_ = Clock::now();
    scans_done_ = number;
    ++rescans_;
    scanned_.notify_all();
  }
}

}  // namespace cloudbook
