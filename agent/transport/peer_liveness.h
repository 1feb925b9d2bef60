// What the transport thread knows of each peer's liveness, published for other threads
// (PeerTransport::IsPeerAlive / WaitForPeer). The transport thread writes, anyone reads.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

namespace cloudbook {

class PeerLiveness {
 public:
  void Set(const std::string& peer_id, bool alive);
  void Remove(const std::string& peer_id);
  // Every peer reads as not alive from now on and waiters wake up.
  void Shutdown();

  bool IsAlive(const std::string& peer_id) const;
  // Blocks until IsAlive(peer_id) == alive (true) or `timeout` passes (false).
  bool WaitUntil(const std::string& peer_id, bool alive, std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, bool> alive_;  // guarded by mutex_
  bool shut_down_ = false;             // guarded by mutex_
};

}  // namespace cloudbook
