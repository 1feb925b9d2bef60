// Settings of a PeerTransport (docs/transport.md), one documented line each, and the callback
// types it takes. Plain values: copy freely. Defaults come from shared/tunables_def.h (so
// CLOUDBOOK_<NAME> changes them); tests set their own.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "shared/formats/curve_keys.h"
#include "shared/status.h"
#include "shared/tunables.h"
#include "shared/wire/wire_message.h"

namespace spdlog {
class logger;
}

namespace cloudbook {

class InvokeContext;

// Runs one incoming invoke on a worker thread (on the transport thread only for the functions
// listed in PeerTransportOptions::inline_functions). The returned
// message is sent back as kResult (kind and request id are filled in); an error Status is
// sent as kError with its message. Must watch context.cancelled() during long work.
using InvokeHandler = std::function<Result<WireMessage>(InvokeContext& context)>;

// Receives each kProgress of a Call, on the thread that called Call, before Call returns.
using ProgressCallback = std::function<void(const WireMessage& progress)>;

// Consulted by the ZAP handler, on the transport thread, for every CURVE client that connects
// to this agent's ROUTER: true accepts the key and names the agent it belongs to (that id
// becomes the authenticated caller id). Must be quick (an in-memory lookup) and must not call
// back into the transport.
using PeerAuthorizer =
    std::function<bool(const std::string& client_public_key_z85, std::string* agent_id_out)>;

struct PeerTransportOptions {
  // This agent's id: the routing id of its DEALERs and the caller id its peers see.
  std::string agent_id;
  // Where the ROUTER binds; "tcp://127.0.0.1:0" picks a free port (see PeerTransport::endpoint).
  std::string bind_endpoint = "tcp://127.0.0.1:0";
  // When >= 0: a socket already listening on bind_endpoint's address and port, which the
  // ROUTER adopts (ZMQ_USE_FD) and closes when done. No moment passes in which the port is
  // free, so an agent starting beside this one cannot take it (agent/core/port_reservation.h).
  int listen_fd = -1;
  // CURVE off: no encryption, no authentication. Logged as a loud warning at every start.
  bool plaintext = false;
  // This agent's CURVE key pair (Z85); required unless plaintext.
  CurveKeyPair keys;
  // Decides which CURVE clients may connect; required unless plaintext.
  PeerAuthorizer authorizer;
  // Ping period on each peer's DEALER (and ZMTP heartbeat period of the sockets).
  std::chrono::milliseconds heartbeat_interval{
      static_cast<int64_t>(tunables_default::heartbeat_interval_s * 1000)};
  // No message from a peer for this long: the peer is lost and calls to it fail.
  std::chrono::milliseconds peer_timeout{tunables_default::liveness_multiplier *
                                         heartbeat_interval};
  // Messages queued per peer and direction before sends wait (tensors are big: keep it low).
  int send_high_water_mark = GetTunables().send_high_water_mark;
  int receive_high_water_mark = GetTunables().receive_high_water_mark;
  // How long closing a socket may wait for unsent messages.
  std::chrono::milliseconds linger = GetTunables().transport_linger_ms;
  // Reconnection back-off of the DEALERs: first retry, then doubling up to the maximum.
  std::chrono::milliseconds reconnect_interval = GetTunables().reconnect_interval_ms;
  std::chrono::milliseconds reconnect_interval_max = GetTunables().reconnect_interval_max_ms;
  // Incoming invokes run on at most this many worker threads at once ...
  size_t max_concurrent_invokes = GetTunables().max_concurrent_invokes;
  // ... and at most this many wait for a worker; more are answered "busy" with kError.
  size_t max_queued_invokes = GetTunables().max_queued_invokes;
  // Functions whose handler runs on the transport thread itself, skipping the hand-off to a
  // worker and back (two thread wake-ups less per call). Only for handlers that return within
  // microseconds and never block (e.g. a status query): while one runs, this transport sends
  // and receives nothing else.
  std::set<std::string> inline_functions;
  // On Stop, how long running handlers get to notice cancelled() and return.
  std::chrono::milliseconds stop_grace = GetTunables().invoke_stop_grace_ms;
  // Limits every received message is checked against (header, tensors, strings).
  WireLimits limits;
  // Where log lines go; null = spdlog's default logger.
  std::shared_ptr<spdlog::logger> logger;
};

}  // namespace cloudbook
