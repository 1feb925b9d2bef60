// This agent's links to its peers: one DEALER per peer with its socket monitor, the messages
// waiting for the DEALER to take them, heartbeats and liveness (PeerHealth, published to
// PeerLiveness). A peer declared lost or refused fails its calls in the CallTable.
// Not thread-safe: the transport thread. Errors: Add and Remove return a Status.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "agent/transport/call_table.h"
#include "agent/transport/peer_health.h"
#include "agent/transport/peer_liveness.h"
#include "agent/transport/peer_transport_options.h"
#include "agent/transport/socket_io.h"

namespace cloudbook {

// A message waiting for a peer's DEALER to accept it (not connected yet, or queue full).
struct PeerOutgoing {
  uint64_t request_id = 0;
  MessageKind kind = MessageKind::kInvoke;
  std::vector<zmq::message_t> frames;
};

struct PeerLink {
  PeerLink(std::string peer_id, std::string peer_endpoint, std::string key,
           PeerHealth::Clock::time_point added)
      : id(std::move(peer_id)),
        endpoint(std::move(peer_endpoint)),
        server_key(std::move(key)),
        health(id, endpoint, added) {}
  std::string id;
  std::string endpoint;
  std::string server_key;
  zmq::socket_t dealer;
  zmq::socket_t monitor;
  std::deque<PeerOutgoing> outbox;
  PeerHealth health;
};

class PeerLinks {
 public:
  using Clock = std::chrono::steady_clock;
  using Map = std::map<std::string, std::unique_ptr<PeerLink>>;

  PeerLinks(const PeerTransportOptions& options, zmq::context_t& context, SocketIo& io,
            CallTable& calls, std::shared_ptr<PeerLiveness> liveness);
  PeerLinks(const PeerLinks&) = delete;
  PeerLinks& operator=(const PeerLinks&) = delete;

  // Connects a DEALER (same endpoint and key again: nothing to do; new ones replace the link
  // and fail its calls). InvalidArgument when ZeroMQ refuses the endpoint or options.
  Status Add(const std::string& peer_id, const std::string& endpoint,
             const std::string& server_key);
  // Fails the peer's calls ("<peer>: peer <why>") and closes its DEALER. NotFound if unknown.
  Status Remove(const std::string& peer_id, const std::string& why);
  PeerLink* Find(const std::string& peer_id);
  const Map& all() const { return peers_; }
  bool empty() const { return peers_.empty(); }

  // Handles the DEALER's monitor events (handshake, refusal, disconnection), up to a batch.
  void DrainMonitor(PeerLink& peer);
  // Queues a message for the peer and sends what the DEALER takes now.
  void Queue(PeerLink& peer, uint64_t request_id, MessageKind kind,
             std::vector<zmq::message_t>&& frames);
  // Sends queued messages in order until the DEALER would block; drops invokes whose call
  // ended meanwhile and marks the others sent in the CallTable.
  void FlushOutbox(PeerLink& peer);
  // Takes a not yet sent invoke out of the outbox; false when it is not there (sent).
  bool RemoveInvoke(PeerLink& peer, uint64_t request_id);
  // A message came from the peer: it is alive.
  void MarkHeard(PeerLink& peer);
  // Pings, fails calls of handled disconnections (after `settle`), declares silent peers
  // lost, and retries refused handshakes.
  void Tick(Clock::time_point now, Clock::duration settle);
  // Closes every DEALER (Stop).
  void CloseAll();

 private:
  Status OpenDealer(PeerLink& peer);
  static void CloseDealer(PeerLink& peer);
  void SendPing(PeerLink& peer);
  void PublishLiveness(const PeerLink& peer);
  void DeclareUnreachable(PeerLink& peer, PeerHealth::State state, const std::string& why);

  const PeerTransportOptions& options_;
  zmq::context_t& context_;
  SocketIo& io_;
  CallTable& calls_;
  std::shared_ptr<PeerLiveness> liveness_;
  std::shared_ptr<spdlog::logger> log_;
  Map peers_;
  uint64_t monitor_count_ = 0;
};

}  // namespace cloudbook
