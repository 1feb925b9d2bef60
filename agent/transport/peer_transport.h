// The data path between agents (docs/transport.md): one ROUTER this agent's peers call in on,
// one DEALER per peer to call out on (the "harmony" pattern), CURVE with ZAP authorisation,
// heartbeats, deadlines and cancellation. Runs as an actor: one transport thread owns every
// socket; incoming invokes run on a worker pool, never on the transport thread.
// Thread-safety: every public method may be called from any thread, concurrently (not from
// inside the authorizer). Destruction stops the transport (bounded, never hangs).
//
//   auto transport = PeerTransport::Start(options, handler);
//   (*transport)->AddPeer("agent-b", "tcp://10.0.0.2:5555", b_public_key);
//   Result<WireMessage> answer = (*transport)->Call("agent-b", invoke, 30s, on_progress);
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/transport/invoke_context.h"
#include "agent/transport/peer_transport_options.h"
#include "shared/status.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

class CommandQueue;
class PeerLiveness;
class TransportLoop;

class PeerTransport {
 public:
  // Binds the ROUTER (CURVE server unless options.plaintext) and starts the transport thread.
  // `handler` serves every incoming invoke.
  static Result<std::unique_ptr<PeerTransport>> Start(PeerTransportOptions options,
                                                      InvokeHandler handler);
  ~PeerTransport();  // Stop()
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  const std::string& agent_id() const { return agent_id_; }
  // The bound endpoint, with the real port when the options asked for port 0.
  const std::string& endpoint() const { return endpoint_; }

  // Connects a DEALER to a peer's ROUTER (CURVE client trusting `server_public_key_z85`,
  // ignored in plaintext). Same endpoint and key again: nothing to do (ZeroMQ reconnects by
  // itself after a restart). A new endpoint or key: the DEALER is replaced and calls waiting
  // on the old one fail.
  Status AddPeer(const std::string& peer_id, const std::string& endpoint,
                 const std::string& server_public_key_z85);
  // Closes the peer's DEALER; its waiting calls fail. NotFound for an unknown peer.
  Status RemovePeer(const std::string& peer_id);

  // A request id unique within this transport, to set in invoke.header.request_id before
  // Call when another thread may need to Cancel it.
  uint64_t NewRequestId();

  // Sends `invoke` (kind, deadline and, if 0, request id are filled in) to `peer_id` and
  // blocks until its result, an error reply (its message, prefixed with the peer), `timeout`
  // ("agent-b: deadline of 2.0 s passed ..."; the peer is told to cancel), the peer declared
  // lost ("agent-b: no heartbeat for 3.0 s (peer lost)"), the connection lost with the invoke
  // in flight (peer stopped, crashed, restarted), refused, removed, Cancel, or Stop.
  // `on_progress` runs on this thread for each kProgress, before Call returns.
  Result<WireMessage> Call(const std::string& peer_id, WireMessage invoke,
                           std::chrono::milliseconds timeout,
                           const ProgressCallback& on_progress = nullptr);

  // Ends a waiting Call with a "cancelled" error and sends kCancel to the peer (whose handler
  // then sees InvokeContext::cancelled()).
  Status Cancel(const std::string& peer_id, uint64_t request_id);

  // True while the peer's DEALER is connected and messages from the peer arrive within the
  // peer timeout.
  bool IsPeerAlive(const std::string& peer_id) const;
  // Blocks until IsPeerAlive(peer_id) == alive (true), or `timeout` passes (false). After
  // Stop every peer reads as not alive.
  bool WaitForPeer(const std::string& peer_id, std::chrono::milliseconds timeout,
                   bool alive = true) const;

  // Cancels running invokes, fails waiting calls, waits options.stop_grace for handlers and
  // options.linger for unsent messages, then closes everything. Idempotent.
  void Stop();

 private:
  PeerTransport(std::string agent_id, bool plaintext, WireLimits limits,
                std::shared_ptr<CommandQueue> commands, std::shared_ptr<PeerLiveness> liveness);

  const std::string agent_id_;
  const bool plaintext_;
  const WireLimits limits_;
  std::string endpoint_;
  std::shared_ptr<CommandQueue> commands_;
  std::shared_ptr<PeerLiveness> liveness_;
  std::unique_ptr<TransportLoop> loop_;
  std::thread thread_;
  std::atomic<uint64_t> next_request_id_;
  std::mutex stop_mutex_;
  bool stopped_ = false;  // guarded by stop_mutex_
};

}  // namespace cloudbook
