// The agent's TCP port: the first free one from a base (5550 by default) or a fixed one. The
// port is held by a listening socket from the moment it is chosen, so two agents on one
// machine never publish the same endpoint. The transport takes it over either by adopting the
// descriptor (ZMQ_USE_FD on its ROUTER socket) or by calling Release() just before it binds.
#pragma once

#include <string>

#include "shared/status.h"

namespace cloudbook {

class PortReservation {
 public:
  PortReservation() = default;
  PortReservation(int fd, int port) : fd_(fd), port_(port) {}
  ~PortReservation();
  PortReservation(PortReservation&& other) noexcept;
  PortReservation& operator=(PortReservation&& other) noexcept;
  PortReservation(const PortReservation&) = delete;
  PortReservation& operator=(const PortReservation&) = delete;

  int port() const { return port_; }
  // The listening socket (SO_REUSEADDR, close-on-exec), or -1 once released.
  int fd() const { return fd_; }
  // Closes the socket; the port stays recorded.
  void Release();
  // Hands the listening socket over to the caller (who closes it); -1 when already gone.
  int Take();

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Binds and listens on `bind_ip` ("0.0.0.0" or a local IPv4 address): on `fixed_port` when it
// is > 0 (an error naming the port when it is taken), else on the first free port among
// base_port .. base_port + attempts - 1.
Result<PortReservation> ReservePort(const std::string& bind_ip, int fixed_port, int base_port,
                                    int attempts = 100);

}  // namespace cloudbook
