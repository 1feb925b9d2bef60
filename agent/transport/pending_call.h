// The caller's side of one outgoing invoke: the transport thread feeds it progress and, once,
// an outcome; the thread blocked in PeerTransport::Call waits on it, runs the progress
// callback itself and returns the outcome. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "agent/transport/peer_transport_options.h"
#include "shared/status.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

class PendingCall {
 public:
  PendingCall(std::string peer_id, uint64_t request_id, std::string function);
  PendingCall(const PendingCall&) = delete;
  PendingCall& operator=(const PendingCall&) = delete;

  const std::string& peer_id() const { return peer_id_; }
  uint64_t request_id() const { return request_id_; }
  const std::string& function() const { return function_; }

  // Transport thread: queues one kProgress (dropped once an outcome is set or when full).
  void AddProgress(WireMessage progress);
  // Any thread: sets the outcome unless one is set already; returns whether this one won.
  bool Complete(Result<WireMessage> outcome);
  bool done() const;

  // Caller thread: runs `on_progress` for each progress message in arrival order and returns
  // the outcome once every earlier progress has been delivered; nullopt when `deadline`
  // comes first.
  std::optional<Result<WireMessage>> Wait(std::chrono::steady_clock::time_point deadline,
                                          const ProgressCallback& on_progress);

 private:
  const std::string peer_id_;
  const uint64_t request_id_;
  const std::string function_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<WireMessage> progress_;            // guarded by mutex_
  std::optional<Result<WireMessage>> outcome_;  // guarded by mutex_
  bool taken_ = false;                          // guarded by mutex_
};

}  // namespace cloudbook
