#include "agent/transport/peer_links.h"

#include <zmq.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <zmq_addon.hpp>

#include "shared/wire/wire_chunks.h"

namespace cloudbook {

using State = PeerHealth::State;

PeerLinks::PeerLinks(const PeerTransportOptions& options, zmq::context_t& context, SocketIo& io,
                     CallTable& calls, std::shared_ptr<PeerLiveness> liveness)
    : options_(options),
      context_(context),
      io_(io),
      calls_(calls),
      liveness_(std::move(liveness)),
      log_(io.logger()) {}

Status PeerLinks::Add(const std::string& peer_id, const std::string& endpoint,
                      const std::string& server_key) {
  const auto existing = peers_.find(peer_id);
  if (existing != peers_.end()) {
    if (existing->second->endpoint == endpoint && existing->second->server_key == server_key) {
      return Status::Ok();  // ZeroMQ reconnects to the same endpoint by itself
    }
    Remove(peer_id, fmt::format("moved to {}", endpoint));
  }
  auto peer = std::make_unique<PeerLink>(peer_id, endpoint, server_key, Clock::now());
  CB_RETURN_IF_ERROR(OpenDealer(*peer));
  // A fresh peer gets one peer timeout to answer, counted from now.
  peer->health = PeerHealth(peer_id, endpoint, Clock::now());
  log_->info("{}: peer {} at {}", options_.agent_id, peer_id, endpoint);
  liveness_->Set(peer_id, false);
  peers_.emplace(peer_id, std::move(peer));
  return Status::Ok();
}

Status PeerLinks::OpenDealer(PeerLink& peer) {
  const int linger = ClampToInt(options_.linger.count());
  const int peer_timeout = ClampToInt(options_.peer_timeout.count());
  const int64_t max_frame = MaxWireFrameBytes(options_.limits);  // also before authentication
  const std::string monitor_endpoint =
      fmt::format("inproc://cloudbook-monitor-{}", ++monitor_count_);
  try {
    peer.dealer = zmq::socket_t(context_, zmq::socket_type::dealer);
    zmq::socket_t& dealer = peer.dealer;
    dealer.set(zmq::sockopt::routing_id, options_.agent_id);
    dealer.set(zmq::sockopt::linger, linger);
    dealer.set(zmq::sockopt::sndhwm, options_.send_high_water_mark);
    dealer.set(zmq::sockopt::rcvhwm, options_.receive_high_water_mark);
    dealer.set(zmq::sockopt::immediate, true);
    dealer.set(zmq::sockopt::maxmsgsize, max_frame);
    dealer.set(zmq::sockopt::reconnect_ivl, ClampToInt(options_.reconnect_interval.count()));
    dealer.set(zmq::sockopt::reconnect_ivl_max,
               ClampToInt(options_.reconnect_interval_max.count()));
    dealer.set(zmq::sockopt::connect_timeout, peer_timeout);
    dealer.set(zmq::sockopt::handshake_ivl, peer_timeout);
    SetKeepalive(dealer, options_.peer_timeout);
    if (!options_.plaintext) {
      dealer.set(zmq::sockopt::curve_serverkey, peer.server_key);
      dealer.set(zmq::sockopt::curve_publickey, options_.keys.public_key);
      dealer.set(zmq::sockopt::curve_secretkey, options_.keys.secret_key);
    }
    // The monitor tells a refused CURVE handshake apart from silence.
    if (zmq_socket_monitor(dealer.handle(), monitor_endpoint.c_str(),
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED) !=
        0) {
      throw zmq::error_t();
    }
    peer.monitor = zmq::socket_t(context_, zmq::socket_type::pair);
    peer.monitor.set(zmq::sockopt::linger, 0);
    peer.monitor.connect(monitor_endpoint);
    dealer.connect(peer.endpoint);
    io_.MarkDirty(dealer);
    io_.MarkDirty(peer.monitor);
  } catch (const zmq::error_t& error) {
    CloseDealer(peer);
    return Status::InvalidArgument(fmt::format("{}: cannot connect to {} at {}: {}",
                                               options_.agent_id, peer.id, peer.endpoint,
                                               error.what()));
  }
  return Status::Ok();
}

void PeerLinks::CloseDealer(PeerLink& peer) {
  if (peer.dealer) zmq_socket_monitor(peer.dealer.handle(), nullptr, 0);
  peer.monitor.close();
  peer.dealer.close();
}

Status PeerLinks::Remove(const std::string& peer_id, const std::string& why) {
  const auto found = peers_.find(peer_id);
  if (found == peers_.end()) {
    return Status::NotFound(fmt::format("{}: {} is not a peer", options_.agent_id, peer_id));
  }
  calls_.FailTo(peer_id, Status::IoError(fmt::format("{}: peer {}", peer_id, why)));
  CloseDealer(*found->second);
  peers_.erase(found);
  liveness_->Remove(peer_id);
  log_->info("{}: peer {} {}", options_.agent_id, peer_id, why);
  return Status::Ok();
}

PeerLink* PeerLinks::Find(const std::string& peer_id) {
  const auto found = peers_.find(peer_id);
  return found == peers_.end() ? nullptr : found->second.get();
}

void PeerLinks::DrainMonitor(PeerLink& peer) {
  io_.DrainBatch(peer.monitor, [&](std::vector<zmq::message_t>&& frames) {
    if (frames.empty() || frames[0].size() < 6) return;
    uint16_t event = 0;
    uint32_t value = 0;
    std::memcpy(&event, frames[0].data(), sizeof(event));
    std::memcpy(&value, static_cast<const char*>(frames[0].data()) + 2, sizeof(value));
    switch (event) {
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        log_->debug("{}: connected to {} at {}", options_.agent_id, peer.id, peer.endpoint);
        peer.health.Connected();
        MarkHeard(peer);
        PublishLiveness(peer);
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        DeclareUnreachable(
            peer, State::kRefused,
            fmt::format("{} refused the connection from {} (CURVE key not accepted, ZAP status "
                        "{}): is {} announced in the shared folder?",
                        peer.id, options_.agent_id, value, options_.agent_id));
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        DeclareUnreachable(
            peer, State::kRefused,
            fmt::format("{}: handshake with {} failed (protocol error 0x{:08x}): CURVE on one "
                        "side only, or a wrong server key?",
                        peer.id, peer.endpoint, value));
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        log_->debug("{}: handshake with {} failed: {}", options_.agent_id, peer.id,
                    zmq_strerror(static_cast<int>(value)));
        break;
      case ZMQ_EVENT_DISCONNECTED:
        log_->debug("{}: disconnected from {}", options_.agent_id, peer.id);
        // Invokes sent on that connection are gone with it; their calls fail at the next
        // tick (a goodbye still in the pipe is read first).
        peer.health.Disconnected(Clock::now());
        PublishLiveness(peer);
        break;
      default:
        break;
    }
  });
}

void PeerLinks::Queue(PeerLink& peer, uint64_t request_id, MessageKind kind,
                      std::vector<zmq::message_t>&& frames) {
  peer.outbox.push_back(PeerOutgoing{request_id, kind, std::move(frames)});
  FlushOutbox(peer);
}

void PeerLinks::FlushOutbox(PeerLink& peer) {
  while (!peer.outbox.empty()) {
    PeerOutgoing& next = peer.outbox.front();
    if (next.kind == MessageKind::kInvoke && !calls_.IsOpen(next.request_id)) {
      peer.outbox.pop_front();  // the call ended before it could be sent
      continue;
    }
    // ZMQ_IMMEDIATE: no connection yet means "would block", never a queue towards nowhere.
    if (io_.TrySend(peer.dealer, next.frames) != SendOutcome::kSent) return;
    if (next.kind == MessageKind::kInvoke) calls_.MarkSent(next.request_id, Clock::now());
    peer.outbox.pop_front();
  }
}

bool PeerLinks::RemoveInvoke(PeerLink& peer, uint64_t request_id) {
  const auto found = std::find_if(peer.outbox.begin(), peer.outbox.end(), [&](const auto& out) {
    return out.request_id == request_id && out.kind == MessageKind::kInvoke;
  });
  if (found == peer.outbox.end()) return false;
  peer.outbox.erase(found);
  return true;
}

void PeerLinks::SendPing(PeerLink& peer) {
  WireMessage ping;
  ping.header.kind = MessageKind::kPing;
  std::vector<zmq::message_t> frames = EncodeMessage(std::move(ping));
  try {
    io_.TrySend(peer.dealer, frames);  // not connected or queue full: the next one will do
  } catch (const zmq::error_t& error) {
    io_.WarnThrottled("ping " + peer.id, "cannot ping {}: {}", peer.id, error.what());
  }
}

void PeerLinks::MarkHeard(PeerLink& peer) {
  const State before = peer.health.Heard(Clock::now());
  if (before == State::kAlive) return;
  if (before == State::kLost || before == State::kRefused) {
    log_->info("{}: {} is reachable again", options_.agent_id, peer.id);
  }
  PublishLiveness(peer);
}

void PeerLinks::PublishLiveness(const PeerLink& peer) {
  liveness_->Set(peer.id, peer.health.alive());
}

void PeerLinks::DeclareUnreachable(PeerLink& peer, State state, const std::string& why) {
  if (peer.health.Declare(state, why, Clock::now(), options_.reconnect_interval_max)) {
    log_->warn("{}: {}", options_.agent_id, why);
  }
  PublishLiveness(peer);
  calls_.FailTo(peer.id, Status::IoError(why));
  // Messages not sent yet belong to calls that just failed; cancels are moot.
  peer.outbox.clear();
}

void PeerLinks::Tick(Clock::time_point now, Clock::duration settle) {
  for (auto& [id, peer] : peers_) {
    PeerHealth& health = peer->health;
    if (health.PingDue(now, options_.heartbeat_interval)) SendPing(*peer);
    if (const auto disconnected_at = health.TakeDisconnection(now, settle)) {
      calls_.FailSentBefore(peer->id, *disconnected_at);
    }
    if (health.TimedOut(now, options_.peer_timeout)) {
      DeclareUnreachable(*peer, State::kLost, health.LostMessage(now));
    }
    // libzmq does not reconnect after a refused handshake: try a fresh DEALER now and then
    // (the key may have been announced meanwhile). Calls keep failing fast until it works.
    if (health.RetryDue(now, options_.reconnect_interval_max)) {
      CloseDealer(*peer);
      const Status reopened = OpenDealer(*peer);
      if (!reopened.ok()) io_.WarnThrottled("reopen " + id, "{}", reopened.message());
    }
  }
}

void PeerLinks::CloseAll() {
  for (auto& [id, peer] : peers_) CloseDealer(*peer);
  peers_.clear();
}

}  // namespace cloudbook
