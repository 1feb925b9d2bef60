// The CURVE public keys of the agents announced in the shared folder, as the ZAP handler needs
// them: Find() is an in-memory lookup, quick enough for the transport thread. The set is
// replaced by the agent's periodic peer refresh, and a key that is not known asks for a
// rescan on the cache's own thread: the first unknown key of an interval waits for that scan
// (at most kUnknownKeyWait: libzmq never retries a refused handshake, so a peer that announced
// itself a moment ago must get in at its first attempt); the others of the interval do not
// wait and cause no scan of their own (a flood of fresh keys costs two folder scans per
// interval at most, not one per key).
// Thread-safe. The scan function runs on the cache's thread and must not call back into it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace cloudbook {

// How long the first unknown key of an interval waits for its rescan.
inline constexpr std::chrono::milliseconds kUnknownKeyWait{250};

class AnnouncedKeyCache {
 public:
  using KeyMap = std::map<std::string, std::string>;  // CURVE public key (Z85) -> agent id
  using Scan = std::function<KeyMap()>;

  AnnouncedKeyCache(Scan scan, std::chrono::milliseconds min_rescan_interval);
  ~AnnouncedKeyCache();  // stops the rescan thread (waits for a scan in progress)
  AnnouncedKeyCache(const AnnouncedKeyCache&) = delete;
  AnnouncedKeyCache& operator=(const AnnouncedKeyCache&) = delete;

  // True and the agent id when `key` is known or found by the rescan it asks for (waited for
  // only by the first unknown key of an interval, see above); otherwise false.
  bool Find(const std::string& key, std::string* agent_id);
  // A fresh scan made elsewhere (the periodic refresh); counts as a rescan for the interval.
  void Replace(KeyMap keys);
  // Rescans run by the cache's thread so far.
  size_t rescans() const;

 private:
  void Loop();

  const Scan scan_;
  const std::chrono::milliseconds min_rescan_interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable scanned_;  // a rescan finished
  KeyMap keys_;
  bool rescan_wanted_ = false;
  bool urgent_ = false;  // a Find waits: scan at once, whatever the last periodic refresh
  std::chrono::steady_clock::time_point last_wait_ =
      std::chrono::steady_clock::time_point::min();  // the last Find that waited
  bool stopping_ = false;
  std::chrono::steady_clock::time_point last_scan_ = std::chrono::steady_clock::time_point::min();
  size_t rescans_ = 0;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace cloudbook
