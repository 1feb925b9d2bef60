#include "agent/transport/outgoing_calls.h"

#include <iterator>
#include <zmq_addon.hpp>

#include "agent/transport/error_reply.h"
#include "agent/transport/pending_call.h"
#include "shared/wire/wire_chunks.h"

namespace cloudbook {
namespace {

WireMessage CancelMessage(uint64_t request_id) {
  WireMessage cancel;
  cancel.header.kind = MessageKind::kCancel;
  cancel.header.request_id = request_id;
  return cancel;
}

}  // namespace

OutgoingCalls::OutgoingCalls(const PeerTransportOptions& options, SocketIo& io, PeerLinks& peers,
                             CallTable& calls)
    : options_(options), io_(io), peers_(peers), calls_(calls), log_(io.logger()) {}

void OutgoingCalls::Start(TransportCommand& command) {
  const std::shared_ptr<PendingCall>& call = command.call;
  if (call->done()) return;  // the caller gave up before this command was read
  PeerLink* peer = peers_.Find(call->peer_id());
  if (peer == nullptr) {
    call->Complete(Status::NotFound(fmt::format("{} is not a peer of {} (AddPeer it first)",
                                                call->peer_id(), options_.agent_id)));
    return;
  }
  if (peer->health.state() == PeerHealth::State::kLost) {
    call->Complete(Status::IoError(peer->health.LostMessage(PeerHealth::Clock::now())));
    return;
  }
  if (peer->health.state() == PeerHealth::State::kRefused) {
    call->Complete(Status::IoError(peer->health.refusal()));
    return;
  }
  const Status opened = calls_.Open(call);
  if (!opened.ok()) {
    call->Complete(opened);
    return;
  }
  peers_.Queue(*peer, call->request_id(), MessageKind::kInvoke,
               EncodeChunkedMessage(std::move(command.message)));
}

void OutgoingCalls::QueueCancel(PeerLink& peer, uint64_t request_id) {
  peers_.Queue(peer, request_id, MessageKind::kCancel, EncodeMessage(CancelMessage(request_id)));
}

void OutgoingCalls::Forget(const std::shared_ptr<PendingCall>& call, bool send_cancel) {
  if (!calls_.Erase(call)) return;
  PeerLink* peer = peers_.Find(call->peer_id());
  if (peer == nullptr) return;
  const bool unsent = peers_.RemoveInvoke(*peer, call->request_id());
  if (!unsent && send_cancel) QueueCancel(*peer, call->request_id());
}

void OutgoingCalls::Cancel(const std::string& peer_id, uint64_t request_id) {
  if (std::shared_ptr<PendingCall> call = calls_.Find(request_id, peer_id)) {
    call->Complete(Status::IoError(
        fmt::format("{}: request {} ({}) cancelled", peer_id, request_id, call->function())));
    Forget(call, /*send_cancel=*/true);
    return;
  }
  // Not waiting here (any more): still ask the peer to stop it.
  PeerLink* peer = peers_.Find(peer_id);
  if (peer == nullptr) return;
  QueueCancel(*peer, request_id);
}

void OutgoingCalls::DrainAnswers(PeerLink& peer) {
  io_.DrainBatch(peer.dealer, [&](std::vector<zmq::message_t>&& frames) {
    HandleAnswer(peer, std::move(frames));
  });
}

void OutgoingCalls::HandleAnswer(PeerLink& peer, std::vector<zmq::message_t>&& frames) {
  peers_.MarkHeard(peer);
  if (frames.empty()) return;
  zmq::message_t header_frame;
  header_frame.copy(frames[0]);
  Result<WireMessage> decoded = DecodeChunkedMessage(std::move(frames), options_.limits);
  if (!decoded.ok()) {
    const Result<WireHeader> header =
        DecodeHeader(header_frame.data(), header_frame.size(), options_.limits);
    io_.WarnThrottled("malformed " + peer.id, "malformed message from {}: {}", peer.id,
                      decoded.status().message());
    if (header.ok()) {
      if (const auto call = calls_.Take(header->request_id, peer.id)) {
        call->Complete(
            Status::Corruption(fmt::format("{}: malformed answer to request {}: {}", peer.id,
                                           header->request_id, decoded.status().message())));
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
      std::shared_ptr<PendingCall> call = calls_.Find(request_id, peer.id);
      if (call == nullptr) {
        log_->debug("{}: dropped a {} for unknown request {} from {}", options_.agent_id,
                    MessageKindName(message.header.kind), request_id, peer.id);
        break;
      }
      if (message.header.kind == MessageKind::kProgress) {
        call->AddProgress(std::move(message));
        break;
      }
      calls_.Erase(call);
      if (message.header.kind == MessageKind::kResult) {
        call->Complete(std::move(message));
      } else {
        call->Complete(StatusFromErrorReply(peer.id, message.header));
      }
      break;
    }
    default:
      io_.WarnThrottled("dealer-kind", "ignored a {} from {} (peers answer on this socket)",
                        MessageKindName(message.header.kind), peer.id);
      break;
  }
}

void OutgoingCalls::FailAll(const Status& stopped) {
  for (auto& [id, call] : calls_.TakeAll()) {
    call->Complete(stopped);
    PeerLink* peer = peers_.Find(call->peer_id());
    if (peer == nullptr) continue;
    std::vector<zmq::message_t> frames = EncodeMessage(CancelMessage(id));
    try {
      io_.TrySend(peer->dealer, frames);
    } catch (const zmq::error_t&) {
      // not connected: nothing to cancel there
    }
  }
}

}  // namespace cloudbook
