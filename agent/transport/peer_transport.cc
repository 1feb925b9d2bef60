#include "agent/transport/peer_transport.h"

#include <spdlog/spdlog.h>

#include <future>
#include <random>
#include <utility>

#include "agent/transport/command_queue.h"
#include "agent/transport/peer_liveness.h"
#include "agent/transport/pending_call.h"
#include "agent/transport/transport_loop.h"
#include "shared/formats/curve_keys.h"
#include "shared/tunables.h"

namespace cloudbook {
namespace {

// Random start, so a restarted agent does not reuse the ids of its previous life.
uint64_t FirstRequestId() {
  std::random_device device;
  const uint64_t high = static_cast<uint64_t>(device()) << 31;
  return (high ^ device()) + 1;
}

}  // namespace

PeerTransport::PeerTransport(std::string agent_id, bool plaintext, WireLimits limits,
                             std::shared_ptr<CommandQueue> commands,
                             std::shared_ptr<PeerLiveness> liveness)
    : agent_id_(std::move(agent_id)),
      plaintext_(plaintext),
      limits_(limits),
      commands_(std::move(commands)),
      liveness_(std::move(liveness)),
      next_request_id_(FirstRequestId()) {}

Result<std::unique_ptr<PeerTransport>> PeerTransport::Start(PeerTransportOptions options,
                                                            InvokeHandler handler) {
  CB_ASSIGN_OR_RETURN(std::shared_ptr<CommandQueue> commands, CommandQueue::Create());
  auto liveness = std::make_shared<PeerLiveness>();
  const std::string agent_id = options.agent_id;
  const bool plaintext = options.plaintext;
  const WireLimits limits = options.limits;
  CB_ASSIGN_OR_RETURN(
      std::unique_ptr<TransportLoop> loop,
      TransportLoop::Create(std::move(options), std::move(handler), commands, liveness));
  std::unique_ptr<PeerTransport> transport(
      new PeerTransport(agent_id, plaintext, limits, std::move(commands), std::move(liveness)));
  transport->endpoint_ = loop->endpoint();
  transport->loop_ = std::move(loop);
  TransportLoop* body = transport->loop_.get();
  transport->thread_ = std::thread([body] { body->Run(); });
  return transport;
}

PeerTransport::~PeerTransport() { Stop(); }

void PeerTransport::Stop() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  TransportCommand stop;
  stop.type = TransportCommand::Type::kStop;
  commands_->Push(std::move(stop));
  if (thread_.joinable()) thread_.join();
  loop_.reset();
}

Status PeerTransport::AddPeer(const std::string& peer_id, const std::string& endpoint,
                              const std::string& server_public_key_z85) {
  if (peer_id.empty() || endpoint.empty()) {
    return Status::InvalidArgument(agent_id_ + ": AddPeer needs a peer id and an endpoint");
  }
  if (!plaintext_ && !IsCurveKeyZ85(server_public_key_z85)) {
    return Status::InvalidArgument(agent_id_ + ": the public key of " + peer_id +
                                   " is not 40 Z85 characters");
  }
  TransportCommand command;
  command.type = TransportCommand::Type::kAddPeer;
  command.peer_id = peer_id;
  command.endpoint = endpoint;
  command.server_key = server_public_key_z85;
  command.done = std::make_shared<std::promise<Status>>();
  std::future<Status> done = command.done->get_future();
  if (!commands_->Push(std::move(command))) {
    return Status::IoError(agent_id_ + ": transport stopped");
  }
  if (done.wait_for(GetTunables().transport_command_timeout_ms) != std::future_status::ready) {
    return Status::Internal(agent_id_ + ": the transport thread did not answer AddPeer");
  }
  return done.get();
}

Status PeerTransport::RemovePeer(const std::string& peer_id) {
  TransportCommand command;
  command.type = TransportCommand::Type::kRemovePeer;
  command.peer_id = peer_id;
  command.done = std::make_shared<std::promise<Status>>();
  std::future<Status> done = command.done->get_future();
  if (!commands_->Push(std::move(command))) {
    return Status::IoError(agent_id_ + ": transport stopped");
  }
  if (done.wait_for(GetTunables().transport_command_timeout_ms) != std::future_status::ready) {
    return Status::Internal(agent_id_ + ": the transport thread did not answer RemovePeer");
  }
  return done.get();
}

uint64_t PeerTransport::NewRequestId() {
  uint64_t id = next_request_id_.fetch_add(1);
  if (id == 0) id = next_request_id_.fetch_add(1);  // 0 means "no request"
  return id;
}

Result<WireMessage> PeerTransport::Call(const std::string& peer_id, WireMessage invoke,
                                        std::chrono::milliseconds timeout,
                                        const ProgressCallback& on_progress) {
  if (timeout.count() <= 0) {
    return Status::InvalidArgument(fmt::format("{}: a call needs a positive timeout", peer_id));
  }
  WireHeader& header = invoke.header;
  header.kind = MessageKind::kInvoke;
  if (header.request_id == 0) header.request_id = NewRequestId();
  const auto steady_deadline = std::chrono::steady_clock::now() + timeout;
  // The peer counts the timeout from receipt on its own steady clock ('to'), so it never gives
  // up before we do and clock skew between the machines does not matter. The wall-clock
  // deadline ('dl') is for peers older than 'to' only.
  header.timeout_ms = timeout.count();
  const auto wall_deadline = std::chrono::system_clock::now().time_since_epoch() + timeout;
  header.deadline_unix_ms = std::chrono::ceil<std::chrono::milliseconds>(wall_deadline).count();
  CB_RETURN_IF_ERROR(CheckOutgoingMessage(invoke, limits_).WithContext(peer_id));
  auto call = std::make_shared<PendingCall>(peer_id, header.request_id, header.function);

  TransportCommand command;
  command.type = TransportCommand::Type::kCall;
  command.call = call;
  command.message = std::move(invoke);
  if (!commands_->Push(std::move(command))) {
    return Status::IoError(agent_id_ + ": transport stopped");
  }
  std::optional<Result<WireMessage>> outcome = call->Wait(steady_deadline, on_progress);
  const Status expired = Status::IoError(fmt::format(
      "{}: deadline of {:.1f} s passed (request {}, {})", peer_id,
      std::chrono::duration<double>(timeout).count(), call->request_id(), call->function()));
  if (outcome.has_value()) {
    // A failure that comes in after the deadline (often the peer's own deadline check) is
    // reported as the deadline it is.
    if (!outcome->ok() && std::chrono::steady_clock::now() >= steady_deadline) return expired;
    return std::move(*outcome);
  }
  if (!call->Complete(expired)) {
    // The answer arrived at the last moment: take it.
    outcome = call->Wait(std::chrono::steady_clock::now() + std::chrono::hours(1), on_progress);
    if (outcome.has_value() && outcome->ok()) return std::move(*outcome);
    return expired;
  }
  TransportCommand forget;
  forget.type = TransportCommand::Type::kForgetCall;
  forget.call = call;
  forget.send_cancel = true;
  commands_->Push(std::move(forget));
  return expired;
}

Status PeerTransport::Cancel(const std::string& peer_id, uint64_t request_id) {
  TransportCommand command;
  command.type = TransportCommand::Type::kCancelCall;
  command.peer_id = peer_id;
  command.request_id = request_id;
  if (!commands_->Push(std::move(command))) {
    return Status::IoError(agent_id_ + ": transport stopped");
  }
  return Status::Ok();
}

bool PeerTransport::IsPeerAlive(const std::string& peer_id) const {
  return liveness_->IsAlive(peer_id);
}

bool PeerTransport::WaitForPeer(const std::string& peer_id, std::chrono::milliseconds timeout,
                                bool alive) const {
  return liveness_->WaitUntil(peer_id, alive, timeout);
}

}  // namespace cloudbook
