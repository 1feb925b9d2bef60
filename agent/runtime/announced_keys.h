// The CURVE public keys of the agents announced in the shared folder, as the ZAP handler needs
// them: Find() is an in-memory lookup, quick enough for the transport thread. The set is
// replaced by the agent's periodic peer refresh. A key that is not known waits for a rescan
// that starts after it knocked, run on the cache's own thread (libzmq never retries a refused
// handshake, so agents that announced themselves a moment ago must get in at their first
// attempt, several at once when a project starts). What unknown keys may cost is bounded per
// interval: unknown_key_wait_budget_ms of waiting in all (then they are refused at once and
// only ask for a rescan, one per interval), and rescans at least urgent_rescan_gap_ms apart
// (timings in shared/tunables_def.h, with unknown_key_wait_ms for one key). So a
// flood of fresh keys holds the transport thread for a quarter of the time at most and costs
// a bounded number of folder scans, not one per key.
// Thread-safe. The scan function runs on the cache's thread and must not call back into it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace cloudbook {

class AnnouncedKeyCache {
 public:
  using KeyMap = std::map<std::string, std::string>;  // CURVE public key (Z85) -> agent id
  using Scan = std::function<KeyMap()>;

  AnnouncedKeyCache(Scan scan, std::chrono::milliseconds min_rescan_interval);
  ~AnnouncedKeyCache();  // stops the rescan thread (waits for a scan in progress)
  AnnouncedKeyCache(const AnnouncedKeyCache&) = delete;
  AnnouncedKeyCache& operator=(const AnnouncedKeyCache&) = delete;

  // True and the agent id when `key` is known or found by the rescan it waits for (within the
  // budget above); otherwise false.
  bool Find(const std::string& key, std::string* agent_id);
  // A fresh scan made elsewhere (the periodic refresh); counts as a rescan for the interval.
  void Replace(KeyMap keys);
  // Rescans run by the cache's thread so far.
  size_t rescans() const;

 private:
  using Clock = std::chrono::steady_clock;
  void Loop();

  const Scan scan_;
  const std::chrono::milliseconds min_rescan_interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable scanned_;  // a rescan finished
  KeyMap keys_;
  bool rescan_wanted_ = false;
  bool urgent_ = false;         // a key waits: scan after urgent_rescan_gap_ms, not the interval
  uint64_t scans_started_ = 0;  // by the cache's thread
  uint64_t scans_done_ = 0;     // the number of the last one finished
  Clock::time_point window_start_ = Clock::time_point::min();
  Clock::duration waited_in_window_{0};
  Clock::time_point last_scan_ = Clock::time_point::min();
  Clock::time_point last_scan_start_ = Clock::time_point::min();
  bool stopping_ = false;
  size_t rescans_ = 0;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace cloudbook
