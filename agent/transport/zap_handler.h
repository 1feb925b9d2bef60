// The ZAP (RFC 27) side of this agent's CURVE server: turns one authentication request, as
// received on the REP socket bound at inproc://zeromq.zap.01, into a reply. A client key is
// accepted only when the authorizer knows it; the reply's user id is the agent id the
// authorizer names, which ZeroMQ then attaches to every message of that connection
// ("User-Id"). Refusals are logged with the key prefix, rate-limited for all keys together.
// Not thread-safe: used by the transport thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "agent/transport/log_throttle.h"
#include "agent/transport/peer_transport_options.h"

namespace cloudbook {

class ZapHandler {
 public:
  // `owner_id` names this agent in log lines.
  ZapHandler(PeerAuthorizer authorizer, std::shared_ptr<spdlog::logger> logger,
             std::string owner_id);

  // The six reply frames (version, request id, status code, status text, user id, metadata).
  std::vector<zmq::message_t> Answer(const std::vector<zmq::message_t>& request);

  size_t accepted() const { return accepted_; }
  size_t refused() const { return refused_; }

 private:
  std::vector<zmq::message_t> Reply(const std::string& request_id, const std::string& code,
                                    const std::string& text, const std::string& user_id);

  PeerAuthorizer authorizer_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string owner_id_;
  LogThrottle throttle_;
  size_t accepted_ = 0;
  size_t refused_ = 0;
};

}  // namespace cloudbook
