// What every part of the transport thread shares to use its sockets: sends that never block,
// the set of sockets used since they were last drained, throttled warnings, and small helpers.
// Not thread-safe: the transport thread only. TrySend throws zmq::error_t except when the
// first frame finds no route (kUnreachable).
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "agent/transport/log_throttle.h"
#include "shared/status.h"
#include "shared/tunables.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

// Messages taken from one socket before the loop looks at the others.

enum class SendOutcome { kSent, kWouldBlock, kUnreachable };

// Checks what a sender controls before anything goes on the wire, as the receiver will: the
// header against `limits` (by a decode of its encoding) and one frame per descriptor holding
// exactly its byte count. A message that fails would be refused by the peer.
Status CheckOutgoingMessage(const WireMessage& message, const WireLimits& limits);

class SocketIo {
 public:
  SocketIo(std::string agent_id, std::shared_ptr<spdlog::logger> log);
  SocketIo(const SocketIo&) = delete;
  SocketIo& operator=(const SocketIo&) = delete;

  const std::shared_ptr<spdlog::logger>& logger() const { return log_; }

  // Sends a whole message without blocking, moving its frames into ZeroMQ (no copy):
  // kWouldBlock leaves `frames` intact.
  SendOutcome TrySend(zmq::socket_t& socket, std::vector<zmq::message_t>& frames);

  // Sockets used since they were last drained: PollOnce reads their ZMQ_EVENTS before it
  // blocks, since ZMQ_FD alone would not show what is already waiting.
  void MarkDirty(zmq::socket_t& socket) { dirty_.insert(socket.handle()); }
  // Drained: ZMQ_FD will signal the next message.
  void MarkDrained(zmq::socket_t& socket) { dirty_.erase(socket.handle()); }
  // Hands each message waiting on `socket` to `handle`, up to transport_receive_batch
  // (shared/tunables_def.h), and notes whether more may be waiting.
  template <typename Handle>
  void DrainBatch(zmq::socket_t& socket, Handle&& handle) {
    for (int i = 0, batch = GetTunables().transport_receive_batch; i < batch; ++i) {
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
        MarkDrained(socket);
        return;
      }
      handle(std::move(frames));
    }
    MarkDirty(socket);  // more may be waiting
  }
  bool IsDirty(zmq::socket_t& socket) const { return dirty_.count(socket.handle()) != 0; }
  void ClearDirty() { dirty_.clear(); }

  // Logs a warning unless too many with the same key were logged lately.
  template <typename... Args>
  void WarnThrottled(const std::string& key, const char* format, Args&&... args) {
    size_t suppressed = 0;
    if (!throttle_.Allow(key, &suppressed)) return;
    std::string line = fmt::format(fmt::runtime(format), std::forward<Args>(args)...);
    if (suppressed > 0) line += fmt::format(" ({} similar lines not shown)", suppressed);
    log_->warn("{}: {}", agent_id_, line);
  }

 private:
  const std::string agent_id_;
  std::shared_ptr<spdlog::logger> log_;
  LogThrottle throttle_;
  std::unordered_set<void*> dirty_;  // socket handles
};

double Seconds(std::chrono::steady_clock::duration duration);
int ClampToInt(int64_t value);
// A routing id as text for logs (peers' ids are text; a raw socket's are binary).
std::string PrintableId(const std::string& id);
// TCP keepalive from the peer timeout (instead of ZMTP heartbeats; see the .cc).
void SetKeepalive(zmq::socket_t& socket, std::chrono::milliseconds peer_timeout);

}  // namespace cloudbook
