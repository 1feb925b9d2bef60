#include "agent/serve/agents_backend.h"

#include <spdlog/spdlog.h>

#include "shared/formats/pid_file.h"
#include "shared/formats/run_model.h"
#include "shared/project_layout.h"
#include "shared/wire/wire_arrays.h"

namespace cloudbook {

namespace {

// The prefix the transport puts before an error agent 0 returned (error_reply.h).
std::string RemotePrefix() { return std::string(kControlPeerId) + " (serve_predict): "; }

// Agent 0's control endpoint, once its process is known to be the one holding its pid file
// (a stale control file may name a pid that belongs to another program by now).
Result<ControlEndpoint> RunningControl(const std::string& project_folder,
                                       const std::string& agent_id) {
  auto control = ReadControlFile(project_folder, agent_id);
  if (!control.ok()) return control.status();
  const std::string pid_file = ProjectLayout(project_folder).agent_pid_file(agent_id);
  CB_ASSIGN_OR_RETURN(PidFileState holder, ReadPidFileState(pid_file));
  if (!holder.running || holder.pid != control->pid) {
    return Status::IoError(agent_id + " is not running (no live process holds " + pid_file +
                           " with the control file's pid " + std::to_string(control->pid) +
                           "): launch it with cloudbook-agent launch --project-folder " +
                           project_folder + " --agent-id " + agent_id);
  }
  return control;
}

// `status`'s code with another message.
Status SameCode(const Status& status, std::string message) {
  switch (status.code()) {
    case Status::Code::kInvalidArgument:
      return Status::InvalidArgument(std::move(message));
    case Status::Code::kNotFound:
      return Status::NotFound(std::move(message));
    case Status::Code::kCorruption:
      return Status::Corruption(std::move(message));
    case Status::Code::kIoError:
      return Status::IoError(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

}  // namespace

AgentsBackend::~AgentsBackend() {
  if (transport_) transport_->Stop();
}

Result<std::unique_ptr<AgentsBackend>> AgentsBackend::Connect(const AgentsBackendOptions& options) {
  std::unique_ptr<AgentsBackend> backend(new AgentsBackend());
  backend->options_ = options;
  auto config = ReadAgentConfig(options.project_folder, options.agent_id);
  if (!config.ok()) {
    return config.status().WithContext(
        "distributed serving talks to agent 0 on this machine (create it with cloudbook-agent "
        "create --project-folder " +
        options.project_folder + " --agent-0, or serve with --local)");
  }
  if (!config->agent_0) {
    return Status::InvalidArgument(options.agent_id +
                                   " is not agent 0 of this project (see cloudbook-agent list)");
  }
  backend->config_ = std::move(config).value();
  CB_ASSIGN_OR_RETURN(
      backend->model_,
      OpenRunModel(SharedFolderLayout(backend->config_.shared_folder), options.run));
  CB_RETURN_IF_ERROR(backend->Reconnect());
  return backend;
}

Status AgentsBackend::Reconnect() {
  CB_ASSIGN_OR_RETURN(ControlEndpoint control,
                      RunningControl(options_.project_folder, options_.agent_id));
  if (transport_) transport_->Stop();
  transport_.reset();
  CB_ASSIGN_OR_RETURN(transport_, ConnectControlClient(config_, control, kServeClientId));
  control_ = control;
  if (!transport_->WaitForPeer(kControlPeerId, options_.connect_timeout)) {
    return Status::IoError(options_.agent_id + " (pid " + std::to_string(control.pid) +
                           ") does not answer on " + control.endpoint + " after " +
                           std::to_string(options_.connect_timeout.count() / 1000) +
                           " s (is another cloudbook-serve connected to it in distributed mode?)");
  }
  return Status::Ok();
}

Result<WireMessage> AgentsBackend::Call(const Array& x) {
  WireMessage invoke;
  invoke.header.kind = MessageKind::kInvoke;
  invoke.header.function = "serve_predict";
  invoke.header.du = 0;
  invoke.header.arguments = {{"run", model_.run}};
  // Copied: the frame may outlive this call (a deadline while it still waits to be sent).
  AddArrayTensor(&invoke, "x", std::make_shared<const Array>(x));
  return transport_->Call(kControlPeerId, std::move(invoke), options_.call_timeout);
}

Result<ComposedOutputs> AgentsBackend::Predict(const Array& x) {
  Result<WireMessage> reply = Call(x);
  if (!reply.ok() && reply.status().message().rfind(RemotePrefix(), 0) != 0) {
    // Not agent 0's answer but no answer: relaunched on another port? Connect anew, once.
    auto control = ReadControlFile(options_.project_folder, options_.agent_id);
    if (control.ok() && control->endpoint != control_.endpoint) {
      spdlog::warn("agent 0 moved to {}: reconnecting", control->endpoint);
      CB_RETURN_IF_ERROR(Reconnect());
      reply = Call(x);
    }
  }
  if (!reply.ok()) {
    const std::string& message = reply.status().message();
    if (message.rfind(RemotePrefix(), 0) == 0) {
      // Agent 0's own error, with its code (InvalidArgument: the input's fault).
      return SameCode(reply.status(), message.substr(RemotePrefix().size()));
    }
    return Status::IoError("agent 0 did not answer: " + message);
  }
  const int outputs = FindTensor(*reply, "outputs");
  const int predictions = FindTensor(*reply, "predictions");
  if (outputs < 0 || predictions < 0) {
    return Status::Corruption("agent 0's serve_predict answer lacks outputs or predictions");
  }
  ComposedOutputs composed;
  CB_ASSIGN_OR_RETURN(composed.outputs, ArrayFromTensor(*reply, static_cast<size_t>(outputs)));
  CB_ASSIGN_OR_RETURN(composed.predictions,
                      Int64sFromTensor(*reply, static_cast<size_t>(predictions)));
  last_served_by_ = StringArgument(reply->header.arguments, "served_by");
  last_failovers_ = static_cast<int64_t>(NumberArgument(reply->header.arguments, "failovers", 0));
  return composed;
}

}  // namespace cloudbook
