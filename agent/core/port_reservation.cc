#include "agent/core/port_reservation.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cloudbook {

namespace {

// The listening socket, or -errno.
int TryListen(const in_addr& address, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  const int one = 1;
  // As libzmq does: a port left in TIME_WAIT by a previous run is free.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in socket_address{};
  socket_address.sin_family = AF_INET;
  socket_address.sin_port = htons(static_cast<uint16_t>(port));
  socket_address.sin_addr = address;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&socket_address), sizeof socket_address) != 0 ||
      ::listen(fd, 64) != 0) {
    const int error = errno;
    ::close(fd);
    return -error;
  }
  return fd;
}

}  // namespace

PortReservation::~PortReservation() { Release(); }

PortReservation::PortReservation(PortReservation&& other) noexcept
    : fd_(other.fd_), port_(other.port_) {
  other.fd_ = -1;
}

PortReservation& PortReservation::operator=(PortReservation&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = other.fd_;
    port_ = other.port_;
    other.fd_ = -1;
  }
  return *this;
}

int PortReservation::Take() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void PortReservation::Release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<PortReservation> ReservePort(const std::string& bind_ip, int fixed_port, int base_port,
                                    int attempts) {
  in_addr address{};
  if (::inet_pton(AF_INET, bind_ip.c_str(), &address) != 1) {
    return Status::InvalidArgument("bind address '" + bind_ip + "' is not an IPv4 address");
  }
  if (fixed_port > 0) {
    const int fd = TryListen(address, fixed_port);
    if (fd < 0) {
      return Status::IoError("cannot listen on " + bind_ip + ":" + std::to_string(fixed_port) +
                             ": " + std::strerror(-fd) +
                             " (stop what uses the port, or choose another with `cloudbook-agent "
                             "edit --port N` or `--base-port N`)");
    }
    return PortReservation(fd, fixed_port);
  }
  int last_error = 0;
  for (int port = base_port; port < base_port + attempts && port <= 65535; ++port) {
    const int fd = TryListen(address, port);
    if (fd >= 0) return PortReservation(fd, port);
    last_error = -fd;
    if (last_error != EADDRINUSE && last_error != EACCES) break;
  }
  return Status::IoError("no free port on " + bind_ip + " from " + std::to_string(base_port) +
                         " to " + std::to_string(base_port + attempts - 1) +
                         " (last error: " + std::strerror(last_error) +
                         "): choose another range with `cloudbook-agent edit --base-port N`");
}

}  // namespace cloudbook
