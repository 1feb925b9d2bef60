#include "agent/transport/router_monitor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <zmq.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <utility>
#include <vector>
#include <zmq_addon.hpp>

#include "shared/tunables.h"

namespace cloudbook {
namespace {

// "1.2.3.4:5678" of the connection's other end, or "" once the descriptor is gone.
std::string PeerAddress(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "";
  char text[INET6_ADDRSTRLEN] = {0};
  uint16_t port = 0;
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    port = ntohs(v4->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    port = ntohs(v6->sin6_port);
  } else {
    return "";
  }
  return std::string(text) + ":" + std::to_string(port);
}

}  // namespace

RouterMonitor::RouterMonitor(zmq::context_t& context, zmq::socket_t& router,
                             const std::string& inproc_endpoint,
                             std::shared_ptr<spdlog::logger> logger, std::string owner_id)
    : router_(&router), log_(std::move(logger)), owner_id_(std::move(owner_id)) {
  if (zmq_socket_monitor(router.handle(), inproc_endpoint.c_str(),
                         ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
    throw zmq::error_t();
  }
  monitor_ = zmq::socket_t(context, zmq::socket_type::pair);
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(inproc_endpoint);
}

RouterMonitor::~RouterMonitor() {
  if (*router_) zmq_socket_monitor(router_->handle(), nullptr, 0);
  monitor_.close();
}

void RouterMonitor::NoteMessage(zmq::message_t& frame) {
  const char* fd_text = nullptr;
  try {
    fd_text = frame.gets("__fd");
  } catch (const zmq::error_t&) {
    return;  // no metadata (not from a connection)
  }
  const auto found = connections_.find(std::atoi(fd_text));
  if (found != connections_.end()) found->second.used = true;
}

bool RouterMonitor::Drain() {
  for (int i = 0; i < GetTunables().router_monitor_event_batch; ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(monitor_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return false;
    }
    if (frames.empty() || frames[0].size() < 6) continue;
    uint16_t event = 0;
    uint32_t fd = 0;
    std::memcpy(&event, frames[0].data(), sizeof(event));
    std::memcpy(&fd, static_cast<const char*>(frames[0].data()) + 2, sizeof(fd));
    const int key = static_cast<int>(fd);
    if (event == ZMQ_EVENT_ACCEPTED) {
      if (connections_.size() >= GetTunables().max_tracked_connections) connections_.clear();
      connections_[key] = Connection{PeerAddress(key), false};
      continue;
    }
    if (event != ZMQ_EVENT_DISCONNECTED) continue;
    const auto found = connections_.find(key);
    if (found == connections_.end()) continue;
    const Connection connection = std::move(found->second);
    connections_.erase(found);
    if (connection.used) continue;
    ++closed_early_;
    size_t suppressed = 0;
    if (!throttle_.Allow("closed-early", &suppressed)) continue;
    log_->warn(
        "{}: closed a connection from {} before it was authenticated (a frame over the {} "
        "byte limit, a malformed or slow handshake, or a refused key){}",
        owner_id_, connection.address.empty() ? "an unknown address" : connection.address,
        router_->get(zmq::sockopt::maxmsgsize),
        suppressed > 0 ? fmt::format(" ({} more not shown)", suppressed) : std::string());
  }
  return true;
}

}  // namespace cloudbook
