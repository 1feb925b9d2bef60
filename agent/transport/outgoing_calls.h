// The caller side of the transport: starts this agent's invokes to its peers, forgets or
// cancels them, and reads the answers and progress the peers send back on their DEALERs
// (completing each PendingCall in the CallTable). Not thread-safe: the transport thread.
// Errors reach the waiting caller through its PendingCall, never as a return value.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "agent/transport/call_table.h"
#include "agent/transport/command_queue.h"
#include "agent/transport/peer_links.h"
#include "agent/transport/peer_transport_options.h"
#include "agent/transport/socket_io.h"

namespace cloudbook {

class OutgoingCalls {
 public:
  OutgoingCalls(const PeerTransportOptions& options, SocketIo& io, PeerLinks& peers,
                CallTable& calls);
  OutgoingCalls(const OutgoingCalls&) = delete;
  OutgoingCalls& operator=(const OutgoingCalls&) = delete;

  // kCall: opens the call and queues its invoke, or fails it at once (unknown peer, peer
  // lost or refused, request id in use).
  void Start(TransportCommand& command);
  // kForgetCall: the caller gave up; an invoke still queued is taken back, otherwise
  // `send_cancel` asks the peer to stop.
  void Forget(const std::shared_ptr<PendingCall>& call, bool send_cancel);
  // kCancelCall: fails the waiting call ("cancelled") and sends kCancel to the peer.
  void Cancel(const std::string& peer_id, uint64_t request_id);
  // Reads the answers waiting on the peer's DEALER, up to a batch.
  void DrainAnswers(PeerLink& peer);
  // Stop: fails every open call with `stopped` and tells their peers to cancel (best effort).
  void FailAll(const Status& stopped);

 private:
  void HandleAnswer(PeerLink& peer, std::vector<zmq::message_t>&& frames);
  void QueueCancel(PeerLink& peer, uint64_t request_id);

  const PeerTransportOptions& options_;
  SocketIo& io_;
  PeerLinks& peers_;
  CallTable& calls_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace cloudbook
