// The dashboard's front door (issue 15, item 9). cpp-httplib 0.11 (Debian 12) reads a request
// on one of its few worker threads with a per-read timeout only, so clients sending one header
// line a second held every worker. The gate owns the listening socket instead: one thread
// reads every connection's request head and body without blocking, closes a connection that
// has not sent its whole request within request_deadline_ms, refuses connections beyond
// max_connections_per_client per client address (and max_connections in all; limits in
// shared/tunables_def.h), all before any
// token check; only a complete request goes, with the client's address added
// (X-Cloudbook-Client), to the HTTP server on a private loopback port, and the answer back.
// One request per connection. Thread-safe: Start and Stop from one owner thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "shared/status.h"

namespace cloudbook {

// The header carrying the client's address to the HTTP server (the gate's own wins: it comes
// first).
inline constexpr const char* kClientHeader = "X-Cloudbook-Client";

class RequestGate {
 public:
  // The largest body a request for `target` (its path and query) may send.
  using BodyLimit = std::function<size_t(const std::string& target)>;
  // Binds ADDRESS:PORT (PORT 0: any free port). IoError naming the address when it cannot.
  static Result<std::unique_ptr<RequestGate>> Bind(const std::string& address, int port,
                                                   BodyLimit max_body_bytes);
  ~RequestGate();  // Stop()

  int port() const;
  // Serves from a thread, forwarding complete requests to 127.0.0.1:backend_port.
  void Start(int backend_port);
  // Stops accepting, closes every connection and waits for the forwarding threads.
  void Stop();

  class Impl;

 private:
  explicit RequestGate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cloudbook
