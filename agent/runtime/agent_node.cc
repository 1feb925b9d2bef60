#include "agent/runtime/agent_node.h"

#include <spdlog/spdlog.h>

#include "agent/core/announcement.h"
#include "agent/transport/invoke_context.h"

namespace cloudbook {

WireMessage ReplyMessage(DuReply reply) {
  WireMessage message;
  message.header.kind = MessageKind::kResult;
  message.header.arguments = std::move(reply.values);
  for (auto& [name, array] : reply.tensors) {
    TensorDescriptor descriptor;
    descriptor.name = name;
    descriptor.dtype = WireDtype::kFloat32;
    descriptor.shape = array->shape;
    descriptor.byte_count = array->values.size() * sizeof(float);
    message.header.tensors.push_back(descriptor);
    message.tensor_frames.push_back(
        FrameFromBuffer(array->values.data(), descriptor.byte_count, array));
  }
  return message;
}

AgentNode::~AgentNode() { Stop(); }

Status AgentNode::Start(AgentServicesContext& context) {
  distributed_folder_ = context.config.distributed_folder;
  own_id_ = context.config.id;
  announce_interval_s_ = context.project.announce_interval_s;
  pinned_signing_keys_[own_id_] = context.config.signing.public_key;
  runtime_ = std::make_unique<DuRuntime>(context.project_folder, context.limits.cores);

  PeerTransportOptions options;
  options.agent_id = own_id_;
  options.plaintext = context.config.plaintext;
  options.keys = context.config.curve;
  options.authorizer = [this](const std::string& key, std::string* id) {
    return Authorize(key, id);
  };
  options.heartbeat_interval =
      std::chrono::milliseconds(static_cast<int64_t>(context.project.heartbeat_interval_s * 1000));
  options.peer_timeout = std::chrono::milliseconds(
      static_cast<int64_t>(std::max(3.0, 3 * context.project.heartbeat_interval_s) * 1000));
  // The launch loop holds the port until now, so no other agent can announce it.
  const int port = context.port->port();
  context.port->Release();
  options.bind_endpoint = "tcp://" + context.bind_ip + ":" + std::to_string(port);
  auto transport = PeerTransport::Start(std::move(options),
                                        [this](InvokeContext& call) { return Handle(call); });
  if (!transport.ok()) return transport.status().WithContext("starting the transport");
  transport_ = std::move(transport).value();
  spdlog::info("serving DU functions on {} (published as {})", transport_->endpoint(),
               context.published_endpoint);
  RefreshPeers();
  return Status::Ok();
}

void AgentNode::ApplyLimits(const GrantLimits& limits) {
  if (runtime_) runtime_->SetThreads(limits.cores);
}

std::vector<int> AgentNode::Dus() {
  std::vector<int> dus;
  if (!runtime_) return dus;
  for (const DuState& state : runtime_->States()) dus.push_back(state.du);
  return dus;
}

std::vector<DuProgress> AgentNode::Progress() {
  RefreshPeers();  // on the stats tick: new agents become reachable within one interval
  std::vector<DuProgress> progress;
  if (!runtime_) return progress;
  for (const DuState& state : runtime_->States()) {
    progress.push_back(
        {state.du, static_cast<int>(state.epoch), state.loss, state.samples_per_second});
  }
  return progress;
}

void AgentNode::Stop() {
  // Clean shutdown: let running trainings finish their epoch (its checkpoint is written),
  // bounded below `cloudbook-agent stop`'s default 30 s; then stopping the transport cancels
  // what is left within one batch, keeping the last finished epoch's checkpoint.
  if (runtime_ && !runtime_->StopAfterCurrentEpochs(kEpochFinishSeconds)) {
    spdlog::warn(
        "an epoch did not finish within {} s: cancelling it (the previous epoch's "
        "checkpoint stays)",
        kEpochFinishSeconds);
  }
  if (transport_) transport_->Stop();
  transport_.reset();
  runtime_.reset();
}

void AgentNode::RefreshPeers() {
  if (!transport_) return;
  const AnnouncementScan scan = ReadAnnouncements(distributed_folder_, pinned_signing_keys_);
  const int64_t now = UnixTimeMs();
  std::map<std::string, std::string> by_key;
  for (const Announcement& peer : scan.valid) {
    if (!peer.curve_public_key.empty()) by_key[peer.curve_public_key] = peer.id;
    if (peer.id == own_id_ || IsStale(peer, now, peer.announce_interval_s) ||
        peer.status == AgentRunState::kStopping) {
      continue;
    }
    const Status added = transport_->AddPeer(peer.id, peer.endpoint, peer.curve_public_key);
    if (!added.ok()) spdlog::warn("peer {}: {}", peer.id, added.message());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  agent_by_key_ = std::move(by_key);
}

bool AgentNode::Authorize(const std::string& public_key, std::string* agent_id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = agent_by_key_.find(public_key);
    if (it != agent_by_key_.end()) {
      *agent_id = it->second;
      return true;
    }
  }
  // Not among the announced keys we know: read the shared folder again once.
  const AnnouncementScan scan = ReadAnnouncements(distributed_folder_, pinned_signing_keys_);
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Announcement& peer : scan.valid) {
    if (!peer.curve_public_key.empty()) agent_by_key_[peer.curve_public_key] = peer.id;
  }
  auto it = agent_by_key_.find(public_key);
  if (it == agent_by_key_.end()) {
    spdlog::warn("refused a peer whose key {}... is not announced in {}/agents",
                 public_key.substr(0, 8), distributed_folder_);
    return false;
  }
  *agent_id = it->second;
  return true;
}

Result<WireMessage> AgentNode::Handle(InvokeContext& context) {
  DuInvocation call;
  call.function = context.function();
  call.du = context.du();
  call.arguments = context.request().header.arguments;
  call.progress = [&context](const WireArguments& progress) { context.SendProgress(progress); };
  call.cancel = context.cancel_flag();
  spdlog::info("{} asks for {} of DU {}", context.caller_id(), call.function, call.du);
  CB_ASSIGN_OR_RETURN(DuReply reply, runtime_->Invoke(call));
  return ReplyMessage(std::move(reply));
}

}  // namespace cloudbook
