#include "agent/transport/transport_loop.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "agent/transport/pending_call.h"
#include "shared/formats/curve_keys.h"
#include "shared/tunables.h"

namespace cloudbook {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

}  // namespace

TransportLoop::TransportLoop(PeerTransportOptions options, InvokeHandler handler,
                             std::shared_ptr<CommandQueue> commands,
                             std::shared_ptr<PeerLiveness> liveness)
    : options_(std::move(options)),
      io_(options_.agent_id, options_.logger ? options_.logger : spdlog::default_logger()),
      commands_(std::move(commands)),
      liveness_(std::move(liveness)),
      peers_(options_, context_, io_, calls_, liveness_),
      outgoing_(options_, io_, peers_, calls_),
      incoming_(options_, context_, io_, std::move(handler), commands_) {
  // Checks run often enough to notice a lost peer within a small part of the timeout.
  tick_interval_ = std::clamp<Clock::duration>(
      options_.heartbeat_interval / GetTunables().tick_heartbeat_fraction,
      GetTunables().tick_min_ms, GetTunables().tick_max_ms);
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
  CB_RETURN_IF_ERROR(loop->incoming_.Open());
  return loop;
}

void TransportLoop::Run() {
  while (!stopping_) {
    try {
      PollOnce();
    } catch (const zmq::error_t& error) {
      if (error.num() == ETERM) break;
      io_.WarnThrottled("zmq-error", "ZeroMQ error in the transport loop: {}", error.what());
    } catch (const std::exception& error) {
      io_.logger()->error("{}: error in the transport loop: {}", options_.agent_id, error.what());
    }
  }
  Shutdown();
}

void TransportLoop::PollOnce() {
  // Not zmq::poll: it asks every socket for ZMQ_EVENTS before and after blocking, each time a
  // getpid() and a poll() system call inside libzmq; with four sockets that was ~45 system
  // calls per round trip on each side. Here a socket's ZMQ_EVENTS is read only when its
  // ZMQ_FD fired or when we used the socket since it was last drained (SocketIo's dirty set):
  // ZMQ_FD only signals new commands, and a send or recv can consume the one announcing a
  // message.
  enum class Source { kRouter, kRouterMonitor, kZap, kDealer, kMonitor };
  struct Item {
    Source source;
    PeerLink* peer;
    zmq::socket_t* socket;
    short wanted;
    short ready;
  };
  std::vector<Item> items;
  items.reserve(2 + 2 * peers_.all().size());
  items.push_back({Source::kRouter, nullptr, &incoming_.router(), ZMQ_POLLIN, 0});
  items.push_back({Source::kRouterMonitor, nullptr, &incoming_.router_monitor(), ZMQ_POLLIN, 0});
  if (zmq::socket_t* zap = incoming_.zap())
    items.push_back({Source::kZap, nullptr, zap, ZMQ_POLLIN, 0});
  for (const auto& [id, peer] : peers_.all()) {
    const short events = peer->outbox.empty() ? ZMQ_POLLIN : (ZMQ_POLLIN | ZMQ_POLLOUT);
    items.push_back({Source::kDealer, peer.get(), &peer->dealer, events, 0});
    items.push_back({Source::kMonitor, peer.get(), &peer->monitor, ZMQ_POLLIN, 0});
  }
  auto ready_events = [](const Item& item) -> short {
    return static_cast<short>(item.socket->get(zmq::sockopt::events) & item.wanted);
  };

  bool any_ready = false;
  for (Item& item : items) {
    if (!io_.IsDirty(*item.socket)) continue;
    item.ready = ready_events(item);
    any_ready = any_ready || item.ready != 0;
  }
  io_.ClearDirty();  // every live socket is checked now (closed ones' handles go too)
  bool commands_ready = !commands_->empty();
  if (!any_ready && !commands_ready) {
    Clock::time_point now = Clock::now();
    Clock::duration wait = std::max(Clock::duration::zero(), next_tick_ - now);
    // A reply the ROUTER could not take yet is retried soon (ROUTER's POLLOUT says nothing
    // about one particular peer).
    if (incoming_.has_waiting_replies())
      wait = std::min<Clock::duration>(wait, GetTunables().outbox_retry_ms);
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
        incoming_.DrainRouter();
        break;
      case Source::kRouterMonitor:
        incoming_.DrainRouterMonitor();
        break;
      case Source::kZap:
        incoming_.DrainZap();
        break;
      case Source::kDealer:
        if (item.ready & ZMQ_POLLIN) outgoing_.DrainAnswers(*item.peer);
        if (item.ready & ZMQ_POLLOUT) peers_.FlushOutbox(*item.peer);
        break;
      case Source::kMonitor:
        peers_.DrainMonitor(*item.peer);
        break;
    }
  }
  // Commands last: they may add or remove peers (and so invalidate `items`).
  if (commands_ready) HandleCommands();
  const Clock::time_point now = Clock::now();
  if (incoming_.has_waiting_replies()) incoming_.FlushReplies(now);
  if (now >= next_tick_) {
    Tick(now);
    next_tick_ = now + tick_interval_;
  }
}

void TransportLoop::Tick(Clock::time_point now) {
  // A disconnection fails its calls one tick later: a goodbye still in the pipe is read first.
  peers_.Tick(now, tick_interval_);
  incoming_.Tick(now);
}

void TransportLoop::HandleCommands() {
  std::deque<TransportCommand> commands = commands_->TakeAll();
  for (TransportCommand& command : commands) {
    try {
      HandleCommand(command);
    } catch (const zmq::error_t& error) {
      io_.WarnThrottled("command-error", "ZeroMQ error while handling a command: {}", error.what());
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
      command.done->set_value(peers_.Add(command.peer_id, command.endpoint, command.server_key));
      break;
    case Type::kRemovePeer:
      command.done->set_value(peers_.Remove(command.peer_id, "removed"));
      break;
    case Type::kCall:
      outgoing_.Start(command);
      break;
    case Type::kForgetCall:
      outgoing_.Forget(command.call, command.send_cancel);
      break;
    case Type::kCancelCall:
      outgoing_.Cancel(command.peer_id, command.request_id);
      break;
    case Type::kReply:
      incoming_.SendReply(command.invoke, std::move(command.message));
      break;
    case Type::kProgress:
      incoming_.SendProgress(command);
      break;
    case Type::kStop:
      stopping_ = true;
      break;
  }
}

void TransportLoop::Shutdown() {
  shut_down_ = true;
  stopping_ = true;
  // Goodbye: callers of unfinished invokes learn now instead of at their peer timeout, and
  // peers stop work for calls nobody waits for any more. Best effort, never blocking.
  incoming_.SayGoodbye();
  const Status stopped = Status::IoError(fmt::format("{}: transport stopped", options_.agent_id));
  outgoing_.FailAll(stopped);
  for (TransportCommand& left : commands_->Close()) {
    if (left.call) left.call->Complete(stopped);
    if (left.done) left.done->set_value(stopped);
  }
  liveness_->Shutdown();
  incoming_.StopWorkers();
  peers_.CloseAll();
  incoming_.Close();
  context_.close();  // waits for unsent messages at most options.linger
  io_.logger()->info("{}: transport stopped", options_.agent_id);
}

}  // namespace cloudbook
