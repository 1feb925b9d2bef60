// The calls this agent waits on, by request id, with when each invoke left for its peer (the
// caller side's bookkeeping, no sockets). A call leaves the table once, when it is answered,
// failed or forgotten; failing completes its PendingCall. Not thread-safe: the transport thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shared/status.h"

namespace cloudbook {

class PendingCall;

class CallTable {
 public:
  using Clock = std::chrono::steady_clock;

  // Opens the call, not sent yet. InvalidArgument (the call is left alone) when its request id
  // is taken by another call.
  Status Open(std::shared_ptr<PendingCall> call);
  bool IsOpen(uint64_t request_id) const { return calls_.count(request_id) != 0; }
  // The invoke went on the wire at `now`: a lost connection from then on takes it along.
  void MarkSent(uint64_t request_id, Clock::time_point now);
  // The open call `request_id` to `peer_id`, or null (unknown, or another peer's).
  std::shared_ptr<PendingCall> Find(uint64_t request_id, const std::string& peer_id) const;
  // As Find, and the call leaves the table.
  std::shared_ptr<PendingCall> Take(uint64_t request_id, const std::string& peer_id);
  // Removes exactly this call if it is open; false otherwise.
  bool Erase(const std::shared_ptr<PendingCall>& call);

  // Fails every call to `peer_id` with `status`.
  void FailTo(const std::string& peer_id, const Status& status);
  // Fails the calls to `peer_id` whose invoke was sent at or before `disconnected_at` (a
  // connection lost with them in flight); calls not sent yet stay.
  void FailSentBefore(const std::string& peer_id, Clock::time_point disconnected_at);
  // Every open call (request id, call); the table is empty afterwards.
  std::vector<std::pair<uint64_t, std::shared_ptr<PendingCall>>> TakeAll();

  size_t size() const { return calls_.size(); }

 private:
  // sent_at stays max() while the invoke waits in the peer's outbox.
  struct OpenCall {
    std::shared_ptr<PendingCall> call;
    Clock::time_point sent_at = Clock::time_point::max();
  };
  std::unordered_map<uint64_t, OpenCall> calls_;
};

}  // namespace cloudbook
