// Notices connections to the ROUTER that end before they were of any use: libzmq closes a
// connection whose frame exceeds ZMQ_MAXMSGSIZE, whose handshake is malformed or too slow,
// or whose key the ZAP handler refused, without telling the application. A ZeroMQ socket
// monitor reports ACCEPTED and DISCONNECTED by file descriptor; a connection that delivered a
// message (its "__fd" property) was authenticated. The others are logged, throttled: at most
// 5 lines per 10 s in all, with the count of those not shown.
// Not thread-safe: the transport thread only.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <zmq.hpp>

#include "agent/transport/log_throttle.h"

namespace spdlog {
class logger;
}

namespace cloudbook {

class RouterMonitor {
 public:
  // Monitors `router` through a PAIR socket connected to `inproc_endpoint`. Throws
  // zmq::error_t when ZeroMQ refuses.
  RouterMonitor(zmq::context_t& context, zmq::socket_t& router, const std::string& inproc_endpoint,
                std::shared_ptr<spdlog::logger> logger, std::string owner_id);
  ~RouterMonitor();
  RouterMonitor(const RouterMonitor&) = delete;
  RouterMonitor& operator=(const RouterMonitor&) = delete;

  // The socket to poll for ZMQ_POLLIN.
  zmq::socket_t& socket() { return monitor_; }
  // Handles the events waiting, up to a batch; true when more may be waiting.
  bool Drain();
  // A message came in on a connection: it is an authenticated one.
  void NoteMessage(zmq::message_t& frame);

  // Connections closed before they delivered a message, since the start.
  size_t closed_early() const { return closed_early_; }

 private:
  struct Connection {
    std::string address;
    bool used = false;
  };
  zmq::socket_t* router_;
  zmq::socket_t monitor_;
  std::shared_ptr<spdlog::logger> log_;
  std::string owner_id_;
  LogThrottle throttle_;
  std::unordered_map<int, Connection> connections_;  // by file descriptor
  size_t closed_early_ = 0;
};

}  // namespace cloudbook
