#include "agent/transport/transport_loop.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <limits>
#include <set>
#include <zmq_addon.hpp>

#include "agent/transport/error_reply.h"
#include "agent/transport/invoke_context.h"
#include "agent/transport/pending_call.h"
#include "shared/clock.h"
#include "shared/formats/curve_keys.h"
#include "shared/wire/wire_chunks.h"

namespace cloudbook {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kZapDomain = "cloudbook";
constexpr const char* kRouterMonitorEndpoint = "inproc://cloudbook-router-monitor";
// Messages taken from one socket before the loop looks at the others.
constexpr int kReceiveBatch = 64;
// kProgress of one invoke queued towards the transport thread; more are dropped.
constexpr int kMaxProgressInFlight = 4;

double Seconds(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

// A routing id as text for logs (peers' ids are text; a raw socket's are binary).
std::string PrintableId(const std::string& id) {
  const bool printable = !id.empty() && std::all_of(id.begin(), id.end(),
                                                    [](char c) { return c >= 0x20 && c < 0x7f; });
  if (printable) return id;
  std::string hex = "0x";
  for (const char c : id) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return hex;
}

// Runs `handler` for one invoke (on a worker, or on the transport thread for an inline
// function) and turns its outcome into the reply: kResult, or kError with the Status.
WireMessage RunHandler(const InvokeHandler& handler, InvokeContext& context, size_t max_text) {
  Result<WireMessage> outcome = Status::Internal("not run");
  if (context.cancelled()) {
    outcome = Status::IoError(context.cancel_reason() + " before the handler started");
  } else {
    try {
      outcome = handler(context);
    } catch (const std::exception& error) {
      outcome = Status::Internal(std::string("the handler threw: ") + error.what());
    } catch (...) {
      outcome = Status::Internal("the handler threw");
    }
  }
  if (!outcome.ok()) {
    return MakeError(context.request_id(), context.du(), context.function(), outcome.status(),
                     max_text);
  }
  WireMessage reply = std::move(outcome).value();
  reply.header.kind = MessageKind::kResult;
  reply.header.request_id = context.request_id();
  reply.header.error.clear();
  return reply;
}

int ClampToInt(int64_t value) {
  return static_cast<int>(std::clamp<int64_t>(value, 0, std::numeric_limits<int>::max()));
}

}  // namespace

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

template <typename... Args>
void TransportLoop::WarnThrottled(const std::string& key, const char* format, Args&&... args) {
  size_t suppressed = 0;
  if (!throttle_.Allow(key, &suppressed)) return;
  std::string line = fmt::format(fmt::runtime(format), std::forward<Args>(args)...);
  if (suppressed > 0) line += fmt::format(" ({} similar lines not shown)", suppressed);
  log_->warn("{}: {}", options_.agent_id, line);
}

TransportLoop::TransportLoop(PeerTransportOptions options, InvokeHandler handler,
                             std::shared_ptr<CommandQueue> commands,
                             std::shared_ptr<PeerLiveness> liveness)
    : options_(std::move(options)),
      log_(options_.logger ? options_.logger : spdlog::default_logger()),
      handler_(std::make_shared<const InvokeHandler>(std::move(handler))),
      commands_(std::move(commands)),
      liveness_(std::move(liveness)),
      pool_(options_.max_concurrent_invokes, options_.max_queued_invokes),
      throttle_(std::chrono::seconds(10), 5) {
  // Checks run often enough to notice a lost peer within a small part of the timeout.
  tick_interval_ = std::clamp<Clock::duration>(options_.heartbeat_interval / 4, milliseconds(5),
                                               milliseconds(250));
  next_tick_ = Clock::now();
}

TransportLoop::~TransportLoop() {
  if (!shut_down_) Shutdown();
}

Result<std::unique_ptr<TransportLoop>> TransportLoop::Create(
    PeerTransportOptions options, InvokeHandler handler, std::shared_ptr<CommandQueue> commands,
    std::shared_ptr<PeerLiveness> liveness) {
  if (options.agent_id.empty() || options.agent_id.size() > 255 || options.agent_id[0] == '\0') {
    return Status::InvalidArgument(
        "transport: agent id must be 1 to 255 bytes, not starting "
        "with a zero byte");
  }
  if (!handler) return Status::InvalidArgument("transport: an invoke handler is required");
  if (options.heartbeat_interval.count() <= 0 ||
      options.peer_timeout <= options.heartbeat_interval) {
    return Status::InvalidArgument(
        fmt::format("transport: peer timeout ({} ms) must exceed the heartbeat interval ({} ms)",
                    options.peer_timeout.count(), options.heartbeat_interval.count()));
  }
  if (options.send_high_water_mark <= 0 || options.receive_high_water_mark <= 0) {
    return Status::InvalidArgument(
        "transport: high-water marks must be positive (0 would mean "
        "unlimited queues)");
  }
  if (!options.plaintext) {
    if (zmq_has("curve") == 0) {
      return Status::Internal(
          "transport: this libzmq has no CURVE support; install a libzmq "
          "built with libsodium (or use plaintext mode, insecure)");
    }
    CB_RETURN_IF_ERROR(ValidateCurveKeyPair(options.keys));
    if (!options.authorizer) {
      return Status::InvalidArgument(
          "transport: CURVE needs an authorizer deciding which "
          "peers' keys are accepted");
    }
  }
  std::unique_ptr<TransportLoop> loop(new TransportLoop(std::move(options), std::move(handler),
                                                        std::move(commands), std::move(liveness)));
  CB_RETURN_IF_ERROR(loop->OpenSockets());
  return loop;
}

// Dead connections (a host that vanished without a FIN) are reaped by TCP keepalive, not by
// ZMTP heartbeats: libzmq 4.3.4 aborts ("Assertion failed: !_io_error",
// stream_engine_base.cpp:331; libzmq issues 3937, 4364, 4767) when a heartbeat timeout hits a
// connection whose input is stopped at our low receive high-water mark, which is what an agent
// woken from SIGSTOP meets (tests/fault/hung_agent_fault_test.cc). Peer liveness itself is
// ours (kPing/kPong, peer_timeout); keepalive only frees the routing id of a dead connection
// so that the restarted peer is let in (no ROUTER_HANDOVER).
void TransportLoop::SetKeepalive(zmq::socket_t& socket) const {
  const int idle_s = std::max(1, ClampToInt((options_.peer_timeout.count() + 999) / 1000));
  socket.set(zmq::sockopt::tcp_keepalive, 1);
  socket.set(zmq::sockopt::tcp_keepalive_idle, idle_s);
  socket.set(zmq::sockopt::tcp_keepalive_intvl, 1);
  socket.set(zmq::sockopt::tcp_keepalive_cnt, 3);
}

Status TransportLoop::OpenSockets() {
  const int linger = ClampToInt(options_.linger.count());
  const int peer_timeout = ClampToInt(options_.peer_timeout.count());
  const int64_t max_frame = MaxWireFrameBytes(options_.limits);  // also before authentication
  try {
    if (!options_.plaintext) {
      // The ZAP handler must be bound before the ROUTER accepts anyone: without one, libzmq
      // would let every CURVE client in.
      zap_ = zmq::socket_t(context_, zmq::socket_type::rep);
      zap_.set(zmq::sockopt::linger, 0);
      zap_.bind(kZapEndpoint);
      zap_handler_ = std::make_unique<ZapHandler>(options_.authorizer, log_, options_.agent_id);
    }
    router_ = zmq::socket_t(context_, zmq::socket_type::router);
    router_.set(zmq::sockopt::router_mandatory, 1);
    router_.set(zmq::sockopt::linger, linger);
    router_.set(zmq::sockopt::sndhwm, options_.send_high_water_mark);
    router_.set(zmq::sockopt::rcvhwm, options_.receive_high_water_mark);
    router_.set(zmq::sockopt::maxmsgsize, max_frame);
    SetKeepalive(router_);
    router_.set(zmq::sockopt::handshake_ivl, peer_timeout);
    if (!options_.plaintext) {
      router_.set(zmq::sockopt::curve_server, 1);
      router_.set(zmq::sockopt::curve_secretkey, options_.keys.secret_key);
      router_.set(zmq::sockopt::zap_domain, kZapDomain);
    }
    if (options_.listen_fd >= 0) router_.set(zmq::sockopt::use_fd, options_.listen_fd);
    router_monitor_ = std::make_unique<RouterMonitor>(context_, router_, kRouterMonitorEndpoint,
                                                      log_, options_.agent_id);
    dirty_.insert(router_monitor_->socket().handle());
    router_.bind(options_.bind_endpoint);
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    dirty_.insert(router_.handle());
    if (zap_) dirty_.insert(zap_.handle());
  } catch (const zmq::error_t& error) {
    return Status::IoError(fmt::format("{}: cannot listen on {}: {}", options_.agent_id,
                                       options_.bind_endpoint, error.what()));
  }
  if (options_.plaintext) {
    log_->warn(
        "{}: PLAINTEXT MODE: the data path on {} is NOT encrypted and NOT authenticated; "
        "anyone who can reach this port can call this agent. Use it only on a trusted network.",
        options_.agent_id, endpoint_);
  } else {
    log_->info("{}: listening on {} (CURVE, key {}...)", options_.agent_id, endpoint_,
               CurveKeyPrefix(options_.keys.public_key));
  }
  return Status::Ok();
}

void TransportLoop::Run() {
  while (!stopping_) {
    try {
      PollOnce();
    } catch (const zmq::error_t& error) {
      if (error.num() == ETERM) break;
      WarnThrottled("zmq-error", "ZeroMQ error in the transport loop: {}", error.what());
    } catch (const std::exception& error) {
      log_->error("{}: error in the transport loop: {}", options_.agent_id, error.what());
    }
  }
  Shutdown();
}

void TransportLoop::PollOnce() {
  // Not zmq::poll: it asks every socket for ZMQ_EVENTS before and after blocking, each time a
  // getpid() and a poll() system call inside libzmq; with four sockets that was ~45 system
  // calls per round trip on each side. Here a socket's ZMQ_EVENTS is read only when its
  // ZMQ_FD fired or when we used the socket since it was last drained (dirty_): ZMQ_FD only
  // signals new commands, and a send or recv can consume the one announcing a message.
  enum class Source { kRouter, kRouterMonitor, kZap, kDealer, kMonitor };
  struct Item {
    Source source;
    PeerLink* peer;
    zmq::socket_t* socket;
    short wanted;
    short ready;
  };
  std::vector<Item> items;
  items.reserve(2 + 2 * peers_.size());
  items.push_back({Source::kRouter, nullptr, &router_, ZMQ_POLLIN, 0});
  items.push_back({Source::kRouterMonitor, nullptr, &router_monitor_->socket(), ZMQ_POLLIN, 0});
  if (zap_) items.push_back({Source::kZap, nullptr, &zap_, ZMQ_POLLIN, 0});
  for (auto& [id, peer] : peers_) {
    const short events = peer->outbox.empty() ? ZMQ_POLLIN : (ZMQ_POLLIN | ZMQ_POLLOUT);
    items.push_back({Source::kDealer, peer.get(), &peer->dealer, events, 0});
    items.push_back({Source::kMonitor, peer.get(), &peer->monitor, ZMQ_POLLIN, 0});
  }
  auto ready_events = [](const Item& item) -> short {
    return static_cast<short>(item.socket->get(zmq::sockopt::events) & item.wanted);
  };

  bool any_ready = false;
  for (Item& item : items) {
    if (dirty_.count(item.socket->handle()) == 0) continue;
    item.ready = ready_events(item);
    any_ready = any_ready || item.ready != 0;
  }
  dirty_.clear();  // every live socket is checked now (closed ones' handles go too)
  bool commands_ready = !commands_->empty();
  if (!any_ready && !commands_ready) {
    Clock::time_point now = Clock::now();
    Clock::duration wait = std::max(Clock::duration::zero(), next_tick_ - now);
    // A reply the ROUTER could not take yet is retried soon (ROUTER's POLLOUT says nothing
    // about one particular peer).
    if (!caller_outbox_.empty()) wait = std::min<Clock::duration>(wait, milliseconds(2));
    const auto wait_ms = duration_cast<milliseconds>(wait + std::chrono::microseconds(999));
    std::vector<pollfd> fds;
    fds.reserve(items.size() + 1);
    fds.push_back({commands_->wakeup_fd(), POLLIN, 0});
    for (const Item& item : items) {
      fds.push_back({item.socket->get(zmq::sockopt::fd), POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(wait_ms.count())) > 0) {
      commands_ready = (fds[0].revents & POLLIN) != 0;
      for (size_t i = 0; i < items.size(); ++i) {
        if (fds[i + 1].revents != 0) items[i].ready = ready_events(items[i]);
      }
    }
  }

  for (const Item& item : items) {
    if (item.ready == 0) continue;
    switch (item.source) {
      case Source::kRouter:
        DrainRouter();
        break;
      case Source::kRouterMonitor:
        if (router_monitor_->Drain()) dirty_.insert(item.socket->handle());
        break;
      case Source::kZap:
        DrainZap();
        break;
      case Source::kDealer:
        if (item.ready & ZMQ_POLLIN) DrainDealer(*item.peer);
        if (item.ready & ZMQ_POLLOUT) FlushPeerOutbox(*item.peer);
        break;
      case Source::kMonitor:
        DrainMonitor(*item.peer);
        break;
    }
  }
  // Commands last: they may add or remove peers (and so invalidate `items`).
  if (commands_ready) HandleCommands();
  const Clock::time_point now = Clock::now();
  if (!caller_outbox_.empty()) FlushCallerOutbox(now);
  if (now >= next_tick_) {
    Tick(now);
    next_tick_ = now + tick_interval_;
  }
}

void TransportLoop::Tick(Clock::time_point now) {
  for (auto& [id, peer] : peers_) {
    if (now >= peer->next_ping) {
      SendPing(*peer);
      peer->next_ping = now + options_.heartbeat_interval;
    }
    const bool reachable =
        peer->state == PeerLink::State::kConnecting || peer->state == PeerLink::State::kAlive;
    if (peer->disconnected_at && now - *peer->disconnected_at >= tick_interval_) {
      FailCallsSentBefore(*peer, *peer->disconnected_at);
      peer->disconnected_at.reset();
    }
    if (reachable && now - peer->last_heard > options_.peer_timeout) {
      DeclareUnreachable(*peer, PeerLink::State::kLost, LostMessage(*peer, now));
    }
    // libzmq does not reconnect after a refused handshake: try a fresh DEALER now and then
    // (the key may have been announced meanwhile). Calls keep failing fast until it works.
    if (peer->state == PeerLink::State::kRefused && now >= peer->retry_at) {
      CloseDealer(*peer);
      peer->connected = false;
      const Status reopened = OpenDealer(*peer);
      if (!reopened.ok()) WarnThrottled("reopen " + id, "{}", reopened.message());
      peer->retry_at = now + options_.reconnect_interval_max;
    }
  }
  const auto steady_now = std::chrono::steady_clock::now();
  for (auto& [key, invoke] : invokes_) {
    if (invoke->cancelled()) continue;
    if (steady_now >= invoke->deadline()) {
      invoke->Cancel("deadline passed");
      continue;
    }
    const auto seen = caller_last_seen_.find(key.first);
    if (seen != caller_last_seen_.end() && now - seen->second > options_.peer_timeout) {
      const std::string reason = fmt::format("caller {} lost (no heartbeat for {:.1f} s)",
                                             PrintableId(key.first), Seconds(now - seen->second));
      log_->warn("{}: cancelling request {} ({}): {}", options_.agent_id, key.second,
                 invoke->function(), reason);
      invoke->Cancel(reason);
    }
  }
  // Forget callers that went quiet long ago and have nothing running here.
  for (auto it = caller_last_seen_.begin(); it != caller_last_seen_.end();) {
    const bool busy = invokes_.lower_bound({it->first, 0}) != invokes_.end() &&
                      invokes_.lower_bound({it->first, 0})->first.first == it->first;
    if (!busy && now - it->second > 10 * options_.peer_timeout) {
      it = caller_last_seen_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

void TransportLoop::HandleCommands() {
  std::deque<TransportCommand> commands = commands_->TakeAll();
  for (TransportCommand& command : commands) {
    try {
      HandleCommand(command);
    } catch (const zmq::error_t& error) {
      WarnThrottled("command-error", "ZeroMQ error while handling a command: {}", error.what());
      if (command.call) {
        command.call->Complete(Status::IoError(
            fmt::format("{}: transport error: {}", command.call->peer_id(), error.what())));
      }
      if (command.done) command.done->set_value(Status::IoError(error.what()));
    }
  }
}

void TransportLoop::HandleCommand(TransportCommand& command) {
  using Type = TransportCommand::Type;
  switch (command.type) {
    case Type::kAddPeer:
      command.done->set_value(AddPeer(command.peer_id, command.endpoint, command.server_key));
      break;
    case Type::kRemovePeer:
      command.done->set_value(RemovePeer(command.peer_id, "removed"));
      break;
    case Type::kCall:
      StartCall(command);
      break;
    case Type::kForgetCall:
      ForgetCall(command.call, command.send_cancel);
      break;
    case Type::kCancelCall:
      CancelCall(command.peer_id, command.request_id);
      break;
    case Type::kReply:
      SendReply(command.invoke, std::move(command.message));
      break;
    case Type::kProgress:
      SendProgress(command);
      break;
    case Type::kStop:
      stopping_ = true;
      break;
  }
}

Status TransportLoop::AddPeer(const std::string& peer_id, const std::string& endpoint,
                              const std::string& server_key) {
  const auto existing = peers_.find(peer_id);
  if (existing != peers_.end()) {
    if (existing->second->endpoint == endpoint && existing->second->server_key == server_key) {
      return Status::Ok();  // ZeroMQ reconnects to the same endpoint by itself
    }
    RemovePeer(peer_id, fmt::format("moved to {}", endpoint));
  }
  auto peer = std::make_unique<PeerLink>();
  peer->id = peer_id;
  peer->endpoint = endpoint;
  peer->server_key = server_key;
  CB_RETURN_IF_ERROR(OpenDealer(*peer));
  const Clock::time_point now = Clock::now();
  peer->added = now;
  peer->last_heard = now;  // a fresh peer gets one peer timeout to answer
  peer->next_ping = now;
  log_->info("{}: peer {} at {}", options_.agent_id, peer_id, endpoint);
  liveness_->Set(peer_id, false);
  peers_.emplace(peer_id, std::move(peer));
  return Status::Ok();
}

Status TransportLoop::OpenDealer(PeerLink& peer) {
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
    SetKeepalive(dealer);
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
    dirty_.insert(dealer.handle());
    dirty_.insert(peer.monitor.handle());
  } catch (const zmq::error_t& error) {
    CloseDealer(peer);
    return Status::InvalidArgument(fmt::format("{}: cannot connect to {} at {}: {}",
                                               options_.agent_id, peer.id, peer.endpoint,
                                               error.what()));
  }
  return Status::Ok();
}

void TransportLoop::CloseDealer(PeerLink& peer) {
  if (peer.dealer) zmq_socket_monitor(peer.dealer.handle(), nullptr, 0);
  peer.monitor.close();
  peer.dealer.close();
}

Status TransportLoop::RemovePeer(const std::string& peer_id, const std::string& why) {
  const auto found = peers_.find(peer_id);
  if (found == peers_.end()) {
    return Status::NotFound(fmt::format("{}: {} is not a peer", options_.agent_id, peer_id));
  }
  FailCallsTo(peer_id, Status::IoError(fmt::format("{}: peer {}", peer_id, why)));
  CloseDealer(*found->second);
  peers_.erase(found);
  liveness_->Remove(peer_id);
  log_->info("{}: peer {} {}", options_.agent_id, peer_id, why);
  return Status::Ok();
}

void TransportLoop::StartCall(TransportCommand& command) {
  const std::shared_ptr<PendingCall>& call = command.call;
  if (call->done()) return;  // the caller gave up before this command was read
  const auto found = peers_.find(call->peer_id());
  if (found == peers_.end()) {
    call->Complete(Status::NotFound(fmt::format("{} is not a peer of {} (AddPeer it first)",
                                                call->peer_id(), options_.agent_id)));
    return;
  }
  PeerLink& peer = *found->second;
  if (peer.state == PeerLink::State::kLost) {
    call->Complete(Status::IoError(LostMessage(peer, Clock::now())));
    return;
  }
  if (peer.state == PeerLink::State::kRefused) {
    call->Complete(Status::IoError(peer.refusal));
    return;
  }
  if (calls_.count(call->request_id()) != 0) {
    call->Complete(Status::InvalidArgument(
        fmt::format("request id {} is already in use by another call", call->request_id())));
    return;
  }
  calls_.emplace(call->request_id(), OpenCall{call});
  QueueToPeer(peer, call->request_id(), MessageKind::kInvoke,
              EncodeChunkedMessage(std::move(command.message)));
}

void TransportLoop::ForgetCall(const std::shared_ptr<PendingCall>& call, bool send_cancel) {
  const auto found = calls_.find(call->request_id());
  if (found == calls_.end() || found->second.call != call) return;
  calls_.erase(found);
  const auto peer = peers_.find(call->peer_id());
  if (peer == peers_.end()) return;
  const bool unsent = RemoveFromPeerOutbox(*peer->second, call->request_id());
  if (!unsent && send_cancel) {
    WireMessage cancel;
    cancel.header.kind = MessageKind::kCancel;
    cancel.header.request_id = call->request_id();
    QueueToPeer(*peer->second, call->request_id(), MessageKind::kCancel,
                EncodeMessage(std::move(cancel)));
  }
}

void TransportLoop::CancelCall(const std::string& peer_id, uint64_t request_id) {
  const auto found = calls_.find(request_id);
  if (found != calls_.end() && found->second.call->peer_id() == peer_id) {
    std::shared_ptr<PendingCall> call = found->second.call;
    call->Complete(Status::IoError(
        fmt::format("{}: request {} ({}) cancelled", peer_id, request_id, call->function())));
    ForgetCall(call, /*send_cancel=*/true);
    return;
  }
  // Not waiting here (any more): still ask the peer to stop it.
  const auto peer = peers_.find(peer_id);
  if (peer == peers_.end()) return;
  WireMessage cancel;
  cancel.header.kind = MessageKind::kCancel;
  cancel.header.request_id = request_id;
  QueueToPeer(*peer->second, request_id, MessageKind::kCancel, EncodeMessage(std::move(cancel)));
}

void TransportLoop::SendReply(const std::shared_ptr<InvokeContext>& invoke, WireMessage reply) {
  const InvokeKey key{invoke->caller_id(), invoke->request_id()};
  const auto found = invokes_.find(key);
  if (found != invokes_.end() && found->second == invoke) invokes_.erase(found);
  const Status valid = CheckOutgoingMessage(reply, options_.limits);
  if (!valid.ok()) {
    log_->error("{}: the handler of {} returned a bad message: {}", options_.agent_id,
                invoke->function(), valid.message());
    reply = MakeError(invoke->request_id(), invoke->du(), invoke->function(),
                      Status::Internal("bad result: " + valid.message()),
                      options_.limits.max_string_bytes);
  }
  QueueToCaller(invoke->caller_id(), std::move(reply));
}

void TransportLoop::SendProgress(TransportCommand& command) {
  if (command.in_flight) command.in_flight->fetch_sub(1);
  const InvokeKey key{command.peer_id, command.request_id};
  if (invokes_.count(key) == 0) return;  // answered already: progress is stale
  std::vector<zmq::message_t> frames;
  frames.emplace_back(command.peer_id.data(), command.peer_id.size());
  for (zmq::message_t& frame : EncodeMessage(std::move(command.message))) {
    frames.push_back(std::move(frame));
  }
  // Progress never waits: if the caller's queue is full, this one is dropped.
  try {
    if (TrySend(router_, frames) != SendOutcome::kSent) {
      log_->debug("{}: progress of request {} dropped (caller busy or away)", options_.agent_id,
                  command.request_id);
    }
  } catch (const zmq::error_t& error) {
    WarnThrottled("progress-send", "cannot send progress to {}: {}", command.peer_id, error.what());
  }
}

// ---------------------------------------------------------------------------------------------
// ROUTER: requests from peers

void TransportLoop::DrainRouter() {
  for (int i = 0; i < kReceiveBatch; ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(router_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      dirty_.erase(router_.handle());  // drained: ZMQ_FD will signal the next one
      return;
    }
    HandleRouterMessage(std::move(frames));
  }
  dirty_.insert(router_.handle());  // more may be waiting
}

void TransportLoop::HandleRouterMessage(std::vector<zmq::message_t>&& frames) {
  if (frames.size() < 2) {
    WarnThrottled("router-short", "dropped an empty message from {}",
                  frames.empty() ? std::string("?") : PrintableId(frames[0].to_string()));
    return;
  }
  router_monitor_->NoteMessage(frames[1]);
  const std::string routing_id = frames[0].to_string();
  if (!options_.plaintext) {
    // The routing id is whatever the peer claims; the User-Id is what its CURVE key proved.
    const char* user_id = nullptr;
    try {
      user_id = frames[1].gets("User-Id");
    } catch (const zmq::error_t&) {
      user_id = nullptr;
    }
    if (user_id == nullptr || routing_id != user_id) {
      WarnThrottled("impostor " + routing_id,
                    "dropped a message claiming to come from {} sent with the key of {}",
                    PrintableId(routing_id), user_id == nullptr ? "nobody" : user_id);
      return;
    }
  }
  const std::string& caller = routing_id;
  caller_last_seen_[caller] = Clock::now();

  zmq::message_t header_frame;
  header_frame.copy(frames[1]);  // shares the buffer: kept to answer a malformed message
  std::vector<zmq::message_t> body;
  body.reserve(frames.size() - 1);
  std::move(frames.begin() + 1, frames.end(), std::back_inserter(body));
  Result<WireMessage> decoded = DecodeChunkedMessage(std::move(body), options_.limits);
  if (!decoded.ok()) {
    const Result<WireHeader> header =
        DecodeHeader(header_frame.data(), header_frame.size(), options_.limits);
    WarnThrottled(
        "malformed " + caller, "malformed message from {}: {}{}", PrintableId(caller),
        decoded.status().message(),
        header.ok() && header->request_id != 0 ? " (answered with an error)" : " (dropped)");
    if (header.ok() && header->request_id != 0 && header->kind == MessageKind::kInvoke) {
      ReplyError(caller, *header, "malformed message: " + decoded.status().message());
    }
    return;
  }
  WireMessage message = std::move(decoded).value();
  switch (message.header.kind) {
    case MessageKind::kInvoke:
      HandleInvoke(caller, std::move(message));
      break;
    case MessageKind::kCancel: {
      const auto found = invokes_.find({caller, message.header.request_id});
      if (found != invokes_.end()) {
        log_->info("{}: {} cancelled request {} ({})", options_.agent_id, PrintableId(caller),
                   message.header.request_id, found->second->function());
        found->second->Cancel("cancelled by " + caller);
      }
      break;
    }
    case MessageKind::kPing: {
      WireMessage pong;
      pong.header.kind = MessageKind::kPong;
      pong.header.request_id = message.header.request_id;
      std::vector<zmq::message_t> out;
      out.emplace_back(caller.data(), caller.size());
      for (zmq::message_t& frame : EncodeMessage(std::move(pong))) out.push_back(std::move(frame));
      try {
        TrySend(router_, out);  // a pong that does not fit now is not worth keeping
      } catch (const zmq::error_t& error) {
        WarnThrottled("pong", "cannot answer a ping of {}: {}", PrintableId(caller), error.what());
      }
      break;
    }
    default:
      WarnThrottled("router-kind",
                    "ignored a {} from {} (peers send only invoke, cancel and ping "
                    "to this socket)",
                    MessageKindName(message.header.kind), PrintableId(caller));
      break;
  }
}

void TransportLoop::HandleInvoke(const std::string& caller, WireMessage&& invoke) {
  const WireHeader& header = invoke.header;
  if (header.request_id == 0) {
    WarnThrottled("invoke-no-id", "dropped an invoke without request id from {}",
                  PrintableId(caller));
    return;
  }
  // A timeout ('to') runs from receipt on this machine's steady clock; only a peer older than
  // 'to' sends just a wall-clock deadline ('dl'), which compares the two machines' clocks.
  int64_t timeout_ms = header.timeout_ms;
  if (timeout_ms <= 0 && header.deadline_unix_ms > 0) {
    timeout_ms = header.deadline_unix_ms - UnixTimeMs();
    if (timeout_ms <= 0) {
      ReplyError(caller, header,
                 fmt::format("deadline passed {} ms before {} could run {} (by this machine's "
                             "clock; the caller sends no timeout); not run",
                             -timeout_ms, options_.agent_id, header.function));
      return;
    }
  }
  if (timeout_ms <= 0) {
    ReplyError(caller, header, "an invoke needs a timeout; refused");
    return;
  }
  const InvokeKey key{caller, header.request_id};
  if (invokes_.count(key) != 0) {
    ReplyError(caller, header, fmt::format("request {} is already running", header.request_id));
    return;
  }
  const uint64_t request_id = header.request_id;
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(timeout_ms);
  auto in_flight = std::make_shared<std::atomic<int>>(0);
  std::weak_ptr<CommandQueue> queue = commands_;
  auto sink = [queue, caller, request_id, in_flight](WireArguments arguments) {
    if (in_flight->fetch_add(1) >= kMaxProgressInFlight) {
      in_flight->fetch_sub(1);
      return false;
    }
    const std::shared_ptr<CommandQueue> commands = queue.lock();
    TransportCommand command;
    command.type = TransportCommand::Type::kProgress;
    command.peer_id = caller;
    command.request_id = request_id;
    command.message.header.kind = MessageKind::kProgress;
    command.message.header.request_id = request_id;
    command.message.header.arguments = std::move(arguments);
    command.in_flight = in_flight;
    if (commands == nullptr || !commands->Push(std::move(command))) {
      in_flight->fetch_sub(1);
      return false;
    }
    return true;
  };
  const WireHeader header_copy{header.protocol_version,
                               header.kind,
                               header.request_id,
                               header.du,
                               header.function,
                               header.deadline_unix_ms,
                               header.timeout_ms,
                               {},
                               {},
                               {}};
  auto context = std::make_shared<InvokeContext>(caller, std::move(invoke), deadline, sink);
  const size_t max_text = options_.limits.max_string_bytes;
  invokes_.emplace(key, context);
  if (options_.inline_functions.count(context->function()) != 0) {
    // A quick handler (PeerTransportOptions::inline_functions): answered right here.
    SendReply(context, RunHandler(*handler_, *context, max_text));
    return;
  }
  auto job = [handler = handler_, context, queue, max_text] {
    TransportCommand command;
    command.type = TransportCommand::Type::kReply;
    command.invoke = context;
    command.message = RunHandler(*handler, *context, max_text);
    if (const auto commands = queue.lock()) commands->Push(std::move(command));
  };
  if (!pool_.TrySubmit(std::move(job))) {
    invokes_.erase(key);
    ReplyError(caller, header_copy,
               fmt::format("{} is busy ({} invokes running or queued); try later",
                           options_.agent_id, pool_.load()));
  }
}

void TransportLoop::ReplyError(const std::string& caller, const WireHeader& request,
                               const std::string& text) {
  QueueToCaller(caller, MakeError(request.request_id, request.du, request.function,
                                  Status::InvalidArgument(text), options_.limits.max_string_bytes));
}

void TransportLoop::QueueToCaller(const std::string& caller, WireMessage&& message) {
  CallerOutgoing out;
  out.caller = caller;
  out.request_id = message.header.request_id;
  out.frames.emplace_back(caller.data(), caller.size());
  for (zmq::message_t& frame : EncodeChunkedMessage(std::move(message))) {
    out.frames.push_back(std::move(frame));
  }
  // A caller that cannot take its answer for a whole peer timeout is lost.
  out.expiry = Clock::now() + options_.peer_timeout;
  caller_outbox_.push_back(std::move(out));
  FlushCallerOutbox(Clock::now());
}

void TransportLoop::FlushCallerOutbox(Clock::time_point now) {
  std::set<std::string> blocked;  // keeps each caller's answers in order
  for (auto it = caller_outbox_.begin(); it != caller_outbox_.end();) {
    if (blocked.count(it->caller) != 0) {
      ++it;
      continue;
    }
    SendOutcome outcome = SendOutcome::kWouldBlock;
    try {
      outcome = TrySend(router_, it->frames);
    } catch (const zmq::error_t& error) {
      WarnThrottled("reply-send", "cannot answer {}: {}", PrintableId(it->caller), error.what());
      outcome = SendOutcome::kSent;  // not retryable: drop it
    }
    if (outcome == SendOutcome::kSent) {
      it = caller_outbox_.erase(it);
      continue;
    }
    if (now >= it->expiry) {
      WarnThrottled("reply-expired " + it->caller,
                    "dropped the answer to request {} of {}: {} for {:.1f} s", it->request_id,
                    PrintableId(it->caller),
                    outcome == SendOutcome::kUnreachable ? "not connected" : "queue full",
                    Seconds(options_.peer_timeout));
      it = caller_outbox_.erase(it);
      continue;
    }
    blocked.insert(it->caller);
    ++it;
  }
}

// ---------------------------------------------------------------------------------------------
// DEALERs: answers from peers

void TransportLoop::DrainDealer(PeerLink& peer) {
  for (int i = 0; i < kReceiveBatch; ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(peer.dealer, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      dirty_.erase(peer.dealer.handle());  // drained: ZMQ_FD will signal the next one
      return;
    }
    HandleDealerMessage(peer, std::move(frames));
  }
  dirty_.insert(peer.dealer.handle());  // more may be waiting
}

void TransportLoop::HandleDealerMessage(PeerLink& peer, std::vector<zmq::message_t>&& frames) {
  MarkHeard(peer);
  if (frames.empty()) return;
  zmq::message_t header_frame;
  header_frame.copy(frames[0]);
  Result<WireMessage> decoded = DecodeChunkedMessage(std::move(frames), options_.limits);
  if (!decoded.ok()) {
    const Result<WireHeader> header =
        DecodeHeader(header_frame.data(), header_frame.size(), options_.limits);
    WarnThrottled("malformed " + peer.id, "malformed message from {}: {}", peer.id,
                  decoded.status().message());
    if (header.ok()) {
      const auto found = calls_.find(header->request_id);
      if (found != calls_.end() && found->second.call->peer_id() == peer.id) {
        found->second.call->Complete(
            Status::Corruption(fmt::format("{}: malformed answer to request {}: {}", peer.id,
                                           header->request_id, decoded.status().message())));
        calls_.erase(found);
      }
    }
    return;
  }
  WireMessage message = std::move(decoded).value();
  const uint64_t request_id = message.header.request_id;
  switch (message.header.kind) {
    case MessageKind::kPong:
      break;
    case MessageKind::kResult:
    case MessageKind::kError:
    case MessageKind::kProgress: {
      const auto found = calls_.find(request_id);
      if (found == calls_.end() || found->second.call->peer_id() != peer.id) {
        log_->debug("{}: dropped a {} for unknown request {} from {}", options_.agent_id,
                    MessageKindName(message.header.kind), request_id, peer.id);
        break;
      }
      if (message.header.kind == MessageKind::kProgress) {
        found->second.call->AddProgress(std::move(message));
        break;
      }
      std::shared_ptr<PendingCall> call = found->second.call;
      calls_.erase(found);
      if (message.header.kind == MessageKind::kResult) {
        call->Complete(std::move(message));
      } else {
        call->Complete(StatusFromErrorReply(peer.id, message.header));
      }
      break;
    }
    default:
      WarnThrottled("dealer-kind", "ignored a {} from {} (peers answer on this socket)",
                    MessageKindName(message.header.kind), peer.id);
      break;
  }
}

void TransportLoop::DrainMonitor(PeerLink& peer) {
  for (int i = 0; i < kReceiveBatch; ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(peer.monitor, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      dirty_.erase(peer.monitor.handle());  // drained: ZMQ_FD will signal the next one
      return;
    }
    if (frames.empty() || frames[0].size() < 6) continue;
    uint16_t event = 0;
    uint32_t value = 0;
    std::memcpy(&event, frames[0].data(), sizeof(event));
    std::memcpy(&value, static_cast<const char*>(frames[0].data()) + 2, sizeof(value));
    switch (event) {
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        log_->debug("{}: connected to {} at {}", options_.agent_id, peer.id, peer.endpoint);
        peer.connected = true;
        MarkHeard(peer);
        PublishLiveness(peer);
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        DeclareUnreachable(
            peer, PeerLink::State::kRefused,
            fmt::format("{} refused the connection from {} (CURVE key not accepted, ZAP status "
                        "{}): is {} announced in the shared folder?",
                        peer.id, options_.agent_id, value, options_.agent_id));
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        DeclareUnreachable(
            peer, PeerLink::State::kRefused,
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
        peer.connected = false;
        // Invokes sent on that connection are gone with it; their calls fail at the next
        // tick (a goodbye still in the pipe is read first).
        if (!peer.disconnected_at) peer.disconnected_at = Clock::now();
        PublishLiveness(peer);
        break;
      default:
        break;
    }
  }
  dirty_.insert(peer.monitor.handle());  // more may be waiting
}

void TransportLoop::QueueToPeer(PeerLink& peer, uint64_t request_id, MessageKind kind,
                                std::vector<zmq::message_t>&& frames) {
  peer.outbox.push_back(PeerOutgoing{request_id, kind, std::move(frames)});
  FlushPeerOutbox(peer);
}

void TransportLoop::FlushPeerOutbox(PeerLink& peer) {
  while (!peer.outbox.empty()) {
    PeerOutgoing& next = peer.outbox.front();
    if (next.kind == MessageKind::kInvoke && calls_.count(next.request_id) == 0) {
      peer.outbox.pop_front();  // the call ended before it could be sent
      continue;
    }
    // ZMQ_IMMEDIATE: no connection yet means "would block", never a queue towards nowhere.
    if (TrySend(peer.dealer, next.frames) != SendOutcome::kSent) return;
    if (next.kind == MessageKind::kInvoke) calls_[next.request_id].sent_at = Clock::now();
    peer.outbox.pop_front();
  }
}

bool TransportLoop::RemoveFromPeerOutbox(PeerLink& peer, uint64_t request_id) {
  const auto found = std::find_if(peer.outbox.begin(), peer.outbox.end(), [&](const auto& out) {
    return out.request_id == request_id && out.kind == MessageKind::kInvoke;
  });
  if (found == peer.outbox.end()) return false;
  peer.outbox.erase(found);
  return true;
}

void TransportLoop::SendPing(PeerLink& peer) {
  WireMessage ping;
  ping.header.kind = MessageKind::kPing;
  std::vector<zmq::message_t> frames = EncodeMessage(std::move(ping));
  try {
    TrySend(peer.dealer, frames);  // not connected or queue full: the next one will do
  } catch (const zmq::error_t& error) {
    WarnThrottled("ping " + peer.id, "cannot ping {}: {}", peer.id, error.what());
  }
}

void TransportLoop::MarkHeard(PeerLink& peer) {
  peer.last_heard = Clock::now();
  if (peer.state == PeerLink::State::kAlive) return;
  if (peer.state == PeerLink::State::kLost || peer.state == PeerLink::State::kRefused) {
    log_->info("{}: {} is reachable again", options_.agent_id, peer.id);
  }
  peer.state = PeerLink::State::kAlive;
  peer.refusal.clear();
  PublishLiveness(peer);
}

void TransportLoop::PublishLiveness(const PeerLink& peer) {
  liveness_->Set(peer.id, peer.state == PeerLink::State::kAlive && peer.connected);
}

void TransportLoop::FailCallsSentBefore(const PeerLink& peer, Clock::time_point disconnected_at) {
  for (auto it = calls_.begin(); it != calls_.end();) {
    const std::shared_ptr<PendingCall>& call = it->second.call;
    if (call->peer_id() == peer.id && it->second.sent_at <= disconnected_at) {
      call->Complete(Status::IoError(
          fmt::format("{}: connection lost while request {} ({}) was in flight (peer stopped, "
                      "crashed or restarted)",
                      peer.id, call->request_id(), call->function())));
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
}

void TransportLoop::DeclareUnreachable(PeerLink& peer, PeerLink::State state,
                                       const std::string& why) {
  if (peer.state != state) {
    log_->warn("{}: {}", options_.agent_id, why);
  }
  peer.state = state;
  if (state == PeerLink::State::kRefused) {
    peer.refusal = why;
    peer.retry_at = Clock::now() + options_.reconnect_interval_max;
  }
  PublishLiveness(peer);
  FailCallsTo(peer.id, Status::IoError(why));
  // Messages not sent yet belong to calls that just failed; cancels are moot.
  peer.outbox.clear();
}

std::string TransportLoop::LostMessage(const PeerLink& peer, Clock::time_point now) const {
  if (peer.last_heard == peer.added && peer.state != PeerLink::State::kAlive) {
    return fmt::format("{}: no answer from {} for {:.1f} s (peer lost)", peer.id, peer.endpoint,
                       Seconds(now - peer.last_heard));
  }
  return fmt::format("{}: no heartbeat for {:.1f} s (peer lost)", peer.id,
                     Seconds(now - peer.last_heard));
}

void TransportLoop::FailCallsTo(const std::string& peer_id, const Status& status) {
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second.call->peer_id() == peer_id) {
      it->second.call->Complete(status);
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ZAP and sending

void TransportLoop::DrainZap() {
  for (int i = 0; i < kReceiveBatch; ++i) {
    std::vector<zmq::message_t> request;
    if (!zmq::recv_multipart(zap_, std::back_inserter(request), zmq::recv_flags::dontwait)) {
      dirty_.erase(zap_.handle());  // drained: ZMQ_FD will signal the next one
      return;
    }
    std::vector<zmq::message_t> reply = zap_handler_->Answer(request);
    zmq::send_multipart(zap_, reply, zmq::send_flags::dontwait);
  }
  dirty_.insert(zap_.handle());  // more may be waiting
}

TransportLoop::SendOutcome TransportLoop::TrySend(zmq::socket_t& socket,
                                                  std::vector<zmq::message_t>& frames) {
  dirty_.insert(socket.handle());  // a send may consume the command announcing a message
  for (size_t i = 0; i < frames.size(); ++i) {
    const zmq::send_flags flags = i + 1 < frames.size()
                                      ? (zmq::send_flags::dontwait | zmq::send_flags::sndmore)
                                      : zmq::send_flags::dontwait;
    try {
      // Moves the frame (and a tensor's buffer) into ZeroMQ: no copy.
      if (!socket.send(frames[i], flags)) {
        if (i == 0) return SendOutcome::kWouldBlock;  // nothing sent, frames intact
        // ZeroMQ accepts the rest of a message once its first part is in: never reached.
        log_->error("{}: a message was cut after {} of {} frames", options_.agent_id, i,
                    frames.size());
        return SendOutcome::kSent;
      }
    } catch (const zmq::error_t& error) {
      if (i == 0 && error.num() == EHOSTUNREACH) return SendOutcome::kUnreachable;
      throw;
    }
  }
  return SendOutcome::kSent;
}

// ---------------------------------------------------------------------------------------------
// Shutdown

void TransportLoop::Shutdown() {
  shut_down_ = true;
  stopping_ = true;
  // Goodbye: callers of unfinished invokes learn now instead of at their peer timeout, and
  // peers stop work for calls nobody waits for any more. Best effort, never blocking.
  const Status stopping = Status::IoError(
      fmt::format("{} is stopping; the request was not finished", options_.agent_id));
  for (auto& [key, invoke] : invokes_) {
    invoke->Cancel(options_.agent_id + " is stopping");
    std::vector<zmq::message_t> frames;
    frames.emplace_back(key.first.data(), key.first.size());
    for (zmq::message_t& frame :
         EncodeMessage(MakeError(invoke->request_id(), invoke->du(), invoke->function(), stopping,
                                 options_.limits.max_string_bytes))) {
      frames.push_back(std::move(frame));
    }
    try {
      TrySend(router_, frames);
    } catch (const zmq::error_t&) {
      // the caller is gone already
    }
  }
  const Status stopped = Status::IoError(fmt::format("{}: transport stopped", options_.agent_id));
  for (auto& [id, open] : calls_) {
    open.call->Complete(stopped);
    const auto peer = peers_.find(open.call->peer_id());
    if (peer == peers_.end()) continue;
    WireMessage cancel;
    cancel.header.kind = MessageKind::kCancel;
    cancel.header.request_id = id;
    std::vector<zmq::message_t> frames = EncodeMessage(std::move(cancel));
    try {
      TrySend(peer->second->dealer, frames);
    } catch (const zmq::error_t&) {
      // not connected: nothing to cancel there
    }
  }
  calls_.clear();
  for (TransportCommand& left : commands_->Close()) {
    if (left.call) left.call->Complete(stopped);
    if (left.done) left.done->set_value(stopped);
  }
  liveness_->Shutdown();
  const size_t detached = pool_.Shutdown(options_.stop_grace);
  if (detached > 0) {
    log_->error(
        "{}: {} invoke handler(s) ignored cancellation for {} ms; left running "
        "detached",
        options_.agent_id, detached, options_.stop_grace.count());
  }
  invokes_.clear();
  caller_outbox_.clear();
  for (auto& [id, peer] : peers_) CloseDealer(*peer);
  peers_.clear();
  router_monitor_.reset();
  router_.close();
  zap_.close();
  context_.close();  // waits for unsent messages at most options.linger
  log_->info("{}: transport stopped", options_.agent_id);
}

}  // namespace cloudbook
