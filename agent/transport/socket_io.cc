#include "agent/transport/socket_io.h"
#include "shared/tunables.h"

#include <algorithm>
#include <cerrno>
#include <limits>

namespace cloudbook {

Status CheckOutgoingMessage(const WireMessage& message, const WireLimits& limits) {
  const zmq::message_t encoded = EncodeHeader(message.header);
  const Result<WireHeader> decoded = DecodeHeader(encoded.data(), encoded.size(), limits);
  if (!decoded.ok()) return decoded.status();
  const auto& tensors = message.header.tensors;
  if (tensors.size() != message.tensor_frames.size()) {
    return Status::InvalidArgument(fmt::format("message has {} tensor descriptors but {} frames",
                                               tensors.size(), message.tensor_frames.size()));
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].byte_count != message.tensor_frames[i].size()) {
      return Status::InvalidArgument(
          fmt::format("tensor '{}' declares {} bytes but its frame holds {}", tensors[i].name,
                      tensors[i].byte_count, message.tensor_frames[i].size()));
    }
  }
  return Status::Ok();
}

SocketIo::SocketIo(std::string agent_id, std::shared_ptr<spdlog::logger> log)
    : agent_id_(std::move(agent_id)), log_(std::move(log)) {}

SendOutcome SocketIo::TrySend(zmq::socket_t& socket, std::vector<zmq::message_t>& frames) {
  MarkDirty(socket);  // a send may consume the command announcing a message
  for (size_t i = 0; i < frames.size(); ++i) {
    const zmq::send_flags flags = i + 1 < frames.size()
                                      ? (zmq::send_flags::dontwait | zmq::send_flags::sndmore)
                                      : zmq::send_flags::dontwait;
    try {
      // Moves the frame (and a tensor's buffer) into ZeroMQ: no copy.
      if (!socket.send(frames[i], flags)) {
        if (i == 0) return SendOutcome::kWouldBlock;  // nothing sent, frames intact
        // ZeroMQ accepts the rest of a message once its first part is in: never reached.
        log_->error("{}: a message was cut after {} of {} frames", agent_id_, i, frames.size());
        return SendOutcome::kSent;
      }
    } catch (const zmq::error_t& error) {
      if (i == 0 && error.num() == EHOSTUNREACH) return SendOutcome::kUnreachable;
      throw;
    }
  }
  return SendOutcome::kSent;
}

double Seconds(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

int ClampToInt(int64_t value) {
  return static_cast<int>(std::clamp<int64_t>(value, 0, std::numeric_limits<int>::max()));
}

std::string PrintableId(const std::string& id) {
  const bool printable = !id.empty() && std::all_of(id.begin(), id.end(),
                                                    [](char c) { return c >= 0x20 && c < 0x7f; });
  if (printable) return id;
  std::string hex = "0x";
  for (const char c : id) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return hex;
}

// Dead connections (a host that vanished without a FIN) are reaped by TCP keepalive, not by
// ZMTP heartbeats: libzmq 4.3.4 aborts ("Assertion failed: !_io_error",
// stream_engine_base.cpp:331; libzmq issues 3937, 4364, 4767) when a heartbeat timeout hits a
// connection whose input is stopped at our low receive high-water mark, which is what an agent
// woken from SIGSTOP meets (tests/fault/hung_agent_fault_test.cc). Peer liveness itself is
// ours (kPing/kPong, peer_timeout); keepalive only frees the routing id of a dead connection
// so that the restarted peer is let in (no ROUTER_HANDOVER).
void SetKeepalive(zmq::socket_t& socket, std::chrono::milliseconds peer_timeout) {
  const int idle_s = std::max(1, ClampToInt((peer_timeout.count() + 999) / 1000));
  socket.set(zmq::sockopt::tcp_keepalive, 1);
  socket.set(zmq::sockopt::tcp_keepalive_idle, idle_s);
  socket.set(zmq::sockopt::tcp_keepalive_intvl, GetTunables().tcp_keepalive_interval_s);
  socket.set(zmq::sockopt::tcp_keepalive_cnt, GetTunables().tcp_keepalive_count);
}

}  // namespace cloudbook
