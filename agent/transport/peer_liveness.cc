#include "agent/transport/peer_liveness.h"

namespace cloudbook {

void PeerLiveness::Set(const std::string& peer_id, bool alive) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    alive_[peer_id] = alive;
  }
  changed_.notify_all();
}

void PeerLiveness::Remove(const std::string& peer_id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    alive_.erase(peer_id);
  }
  changed_.notify_all();
}

void PeerLiveness::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shut_down_ = true;
    alive_.clear();
  }
  changed_.notify_all();
}

bool PeerLiveness::IsAlive(const std::string& peer_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = alive_.find(peer_id);
  return found != alive_.end() && found->second;
}

bool PeerLiveness::WaitUntil(const std::string& peer_id, bool alive,
                             std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    const auto found = alive_.find(peer_id);
    const bool is_alive = !shut_down_ && found != alive_.end() && found->second;
    return is_alive == alive || (shut_down_ && alive);
  }) && (alive ? !shut_down_ : true);
}

}  // namespace cloudbook
