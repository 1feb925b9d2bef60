#include "agent/transport/incoming_invokes.h"

#include <atomic>
#include <iterator>
#include <zmq_addon.hpp>

#include "agent/transport/error_reply.h"
#include "agent/transport/invoke_context.h"
#include "shared/clock.h"
#include "shared/formats/curve_keys.h"
#include "shared/tunables.h"
#include "shared/wire/wire_chunks.h"

namespace cloudbook {
namespace {

using std::chrono::milliseconds;

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kZapDomain = "cloudbook";
constexpr const char* kRouterMonitorEndpoint = "inproc://cloudbook-router-monitor";
// kProgress of one invoke queued towards the transport thread; more are dropped.

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

// The routing id frame followed by the message's frames, for the ROUTER.
std::vector<zmq::message_t> ToCaller(const std::string& caller,
                                     std::vector<zmq::message_t>&& message_frames) {
  std::vector<zmq::message_t> frames;
  frames.reserve(message_frames.size() + 1);
  frames.emplace_back(caller.data(), caller.size());
  for (zmq::message_t& frame : message_frames) frames.push_back(std::move(frame));
  return frames;
}

}  // namespace

IncomingInvokes::IncomingInvokes(const PeerTransportOptions& options, zmq::context_t& context,
                                 SocketIo& io, InvokeHandler handler,
                                 std::shared_ptr<CommandQueue> commands)
    : options_(options),
      context_(context),
      io_(io),
      log_(io.logger()),
      handler_(std::make_shared<const InvokeHandler>(std::move(handler))),
      commands_(std::move(commands)),
      pool_(options.max_concurrent_invokes, options.max_queued_invokes) {}

Status IncomingInvokes::Open() {
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
    SetKeepalive(router_, options_.peer_timeout);
    router_.set(zmq::sockopt::handshake_ivl, peer_timeout);
    if (!options_.plaintext) {
      router_.set(zmq::sockopt::curve_server, 1);
      router_.set(zmq::sockopt::curve_secretkey, options_.keys.secret_key);
      router_.set(zmq::sockopt::zap_domain, kZapDomain);
    }
    if (options_.listen_fd >= 0) router_.set(zmq::sockopt::use_fd, options_.listen_fd);
    router_monitor_ = std::make_unique<RouterMonitor>(context_, router_, kRouterMonitorEndpoint,
                                                      log_, options_.agent_id);
    io_.MarkDirty(router_monitor_->socket());
    router_.bind(options_.bind_endpoint);
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    io_.MarkDirty(router_);
    if (zap_) io_.MarkDirty(zap_);
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

void IncomingInvokes::DrainRouterMonitor() {
  if (router_monitor_->Drain()) io_.MarkDirty(router_monitor_->socket());
}

void IncomingInvokes::DrainZap() {
  io_.DrainBatch(zap_, [this](std::vector<zmq::message_t>&& request) {
    std::vector<zmq::message_t> reply = zap_handler_->Answer(request);
    zmq::send_multipart(zap_, reply, zmq::send_flags::dontwait);
  });
}

void IncomingInvokes::DrainRouter() {
  io_.DrainBatch(router_, [this](std::vector<zmq::message_t>&& frames) {
    HandleRouterMessage(std::move(frames));
  });
}

void IncomingInvokes::HandleRouterMessage(std::vector<zmq::message_t>&& frames) {
  if (frames.size() < 2) {
    io_.WarnThrottled("router-short", "dropped an empty message from {}",
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
      io_.WarnThrottled("impostor " + routing_id,
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
    io_.WarnThrottled(
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
    case MessageKind::kPing:
      SendPong(caller, message.header.request_id);
      break;
    default:
      io_.WarnThrottled("router-kind",
                        "ignored a {} from {} (peers send only invoke, cancel and ping "
                        "to this socket)",
                        MessageKindName(message.header.kind), PrintableId(caller));
      break;
  }
}

void IncomingInvokes::SendPong(const std::string& caller, uint64_t request_id) {
  WireMessage pong;
  pong.header.kind = MessageKind::kPong;
  pong.header.request_id = request_id;
  std::vector<zmq::message_t> out = ToCaller(caller, EncodeMessage(std::move(pong)));
  try {
    io_.TrySend(router_, out);  // a pong that does not fit now is not worth keeping
  } catch (const zmq::error_t& error) {
    io_.WarnThrottled("pong", "cannot answer a ping of {}: {}", PrintableId(caller), error.what());
  }
}

void IncomingInvokes::HandleInvoke(const std::string& caller, WireMessage&& invoke) {
  const WireHeader& header = invoke.header;
  if (header.request_id == 0) {
    io_.WarnThrottled("invoke-no-id", "dropped an invoke without request id from {}",
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
    if (in_flight->fetch_add(1) >= GetTunables().max_progress_in_flight) {
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

void IncomingInvokes::SendReply(const std::shared_ptr<InvokeContext>& invoke, WireMessage reply) {
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

void IncomingInvokes::SendProgress(TransportCommand& command) {
  if (command.in_flight) command.in_flight->fetch_sub(1);
  const InvokeKey key{command.peer_id, command.request_id};
  if (invokes_.count(key) == 0) return;  // answered already: progress is stale
  std::vector<zmq::message_t> frames =
      ToCaller(command.peer_id, EncodeMessage(std::move(command.message)));
  // Progress never waits: if the caller's queue is full, this one is dropped.
  try {
    if (io_.TrySend(router_, frames) != SendOutcome::kSent) {
      log_->debug("{}: progress of request {} dropped (caller busy or away)", options_.agent_id,
                  command.request_id);
    }
  } catch (const zmq::error_t& error) {
    io_.WarnThrottled("progress-send", "cannot send progress to {}: {}", command.peer_id,
                      error.what());
  }
}

void IncomingInvokes::ReplyError(const std::string& caller, const WireHeader& request,
                                 const std::string& text) {
  QueueToCaller(caller, MakeError(request.request_id, request.du, request.function,
                                  Status::InvalidArgument(text), options_.limits.max_string_bytes));
}

void IncomingInvokes::QueueToCaller(const std::string& caller, WireMessage&& message) {
  ReplyOutbox::Reply out;
  out.caller = caller;
  out.request_id = message.header.request_id;
  out.frames = ToCaller(caller, EncodeChunkedMessage(std::move(message)));
  // A caller that cannot take its answer for a whole peer timeout is lost.
  out.expiry = Clock::now() + options_.peer_timeout;
  replies_.Push(std::move(out));
  FlushReplies(Clock::now());
}

void IncomingInvokes::FlushReplies(Clock::time_point now) {
  auto send = [this](ReplyOutbox::Reply& reply) {
    try {
      return io_.TrySend(router_, reply.frames);
    } catch (const zmq::error_t& error) {
      io_.WarnThrottled("reply-send", "cannot answer {}: {}", PrintableId(reply.caller),
                        error.what());
      return SendOutcome::kSent;  // not retryable: drop it
    }
  };
  auto expired = [this](const ReplyOutbox::Reply& reply, SendOutcome outcome) {
    io_.WarnThrottled("reply-expired " + reply.caller,
                      "dropped the answer to request {} of {}: {} for {:.1f} s", reply.request_id,
                      PrintableId(reply.caller),
                      outcome == SendOutcome::kUnreachable ? "not connected" : "queue full",
                      Seconds(options_.peer_timeout));
  };
  replies_.Flush(now, send, expired);
}

void IncomingInvokes::Tick(Clock::time_point now) {
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
    if (!busy &&
        now - it->second > GetTunables().quiet_caller_peer_timeouts * options_.peer_timeout) {
      it = caller_last_seen_.erase(it);
    } else {
      ++it;
    }
  }
}

void IncomingInvokes::SayGoodbye() {
  // Goodbye: callers of unfinished invokes learn now instead of at their peer timeout.
  const Status stopping = Status::IoError(
      fmt::format("{} is stopping; the request was not finished", options_.agent_id));
  for (auto& [key, invoke] : invokes_) {
    invoke->Cancel(options_.agent_id + " is stopping");
    std::vector<zmq::message_t> frames = ToCaller(
        key.first, EncodeMessage(MakeError(invoke->request_id(), invoke->du(), invoke->function(),
                                           stopping, options_.limits.max_string_bytes)));
    try {
      io_.TrySend(router_, frames);
    } catch (const zmq::error_t&) {
      // the caller is gone already
    }
  }
}

void IncomingInvokes::StopWorkers() {
  const size_t detached = pool_.Shutdown(options_.stop_grace);
  if (detached > 0) {
    log_->error(
        "{}: {} invoke handler(s) ignored cancellation for {} ms; left running "
        "detached",
        options_.agent_id, detached, options_.stop_grace.count());
  }
  invokes_.clear();
  replies_.Clear();
}

void IncomingInvokes::Close() {
  router_monitor_.reset();
  router_.close();
  zap_.close();
}

}  // namespace cloudbook
