#include "agent/runtime/agent_call.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

#include "agent/runtime/project_heartbeat.h"
#include "agent/transport/peer_transport.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/announcement.h"
#include "shared/formats/grant.h"
#include "shared/formats/pid_file.h"
#include "shared/project_layout.h"

namespace cloudbook {

namespace {

using std::chrono::milliseconds;

milliseconds Millis(double seconds) { return milliseconds(static_cast<int64_t>(seconds * 1000)); }

Status AnnounceCaller(const AgentConfig& config, const std::string& endpoint, AgentRunState state) {
  Announcement announcement;
  announcement.id = config.id;
  announcement.grant = config.grant;
  announcement.host = HostName();
  announcement.endpoint = endpoint;
  announcement.curve_public_key = config.plaintext ? "" : config.curve.public_key;
  announcement.signing_public_key = config.signing.public_key;
  announcement.plaintext = config.plaintext;
  announcement.sequence = static_cast<uint64_t>(UnixTimeMs());  // increases across calls
  announcement.time_ms = UnixTimeMs();
  announcement.pid = ::getpid();
  announcement.status = state;
  return WriteAnnouncement(config.shared_folder, announcement, config.signing.secret_key);
}

}  // namespace

std::string FormatWireValue(const WireValue& value) {
  std::ostringstream out;
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out << "nil";
        } else if constexpr (std::is_same_v<T, bool>) {
          out << (v ? "true" : "false");
        } else {
          out << v;
        }
      },
      value);
  return out.str();
}

Result<AgentCallResult> CallAgent(const AgentCallOptions& options,
                                  const std::function<void(const WireArguments&)>& on_progress) {
  CB_ASSIGN_OR_RETURN(AgentConfig config,
                      ReadAgentConfig(options.project_folder, options.agent_id));
  // A launched agent owns its id on the network (one connection per id) and its announcement:
  // calling under that id would replace both.
  auto running = ReadPidFileState(ProjectLayout(options.project_folder).agent_pid_file(config.id));
  if (running.ok() && running->running) {
    return Status::InvalidArgument(
        "agent " + config.id + " is launched (pid " + std::to_string(running->pid) +
        "): call as an agent that is not running (create one with `cloudbook-agent create`), "
        "or use cloudbook-run for a whole run");
  }
  const AnnouncementScan scan =
      ReadAnnouncements(config.shared_folder, {{config.id, config.signing.public_key}});
  const Announcement* peer = nullptr;
  for (const Announcement& candidate : scan.valid) {
    if (candidate.id == options.peer_id) peer = &candidate;
  }
  if (peer == nullptr) {
    return Status::NotFound("agent " + options.peer_id + " has no valid announcement in " +
                            config.shared_folder + "/agents (is it launched?)");
  }
  std::map<std::string, std::string> ids_by_key;
  for (const Announcement& a : scan.valid) ids_by_key[a.curve_public_key] = a.id;

  CB_ASSIGN_OR_RETURN(
      const ProjectConfig project,
      LoadProjectConfigOrDefaults(SharedFolderLayout(config.shared_folder).config_file()));
  PeerTransportOptions transport_options;
  ApplyProjectHeartbeat(project, &transport_options);
  transport_options.agent_id = config.id;
  transport_options.plaintext = config.plaintext;
  transport_options.keys = config.curve;
  transport_options.authorizer = [ids_by_key](const std::string& key, std::string* id) {
    auto it = ids_by_key.find(key);
    if (it == ids_by_key.end()) return false;
    *id = it->second;
    return true;
  };
  CB_ASSIGN_OR_RETURN(
      std::unique_ptr<PeerTransport> transport,
      PeerTransport::Start(std::move(transport_options), [](InvokeContext&) -> Result<WireMessage> {
        return Status::InvalidArgument("a calling agent serves nothing");
      }));
  CB_RETURN_IF_ERROR(AnnounceCaller(config, transport->endpoint(), AgentRunState::kRunning));
  CB_RETURN_IF_ERROR(transport->AddPeer(peer->id, peer->endpoint, peer->curve_public_key));
  // No separate wait for the peer: Call queues the invoke until the connection is up, and a
  // refused key or a silent peer fails it within the peer timeout.
  WireMessage invoke;
  invoke.header.kind = MessageKind::kInvoke;
  invoke.header.function = options.function;
  invoke.header.du = options.du;
  invoke.header.arguments = options.arguments;
  AgentCallResult result;
  auto reply = transport->Call(peer->id, std::move(invoke), Millis(options.timeout_s),
                               [&](const WireMessage& progress) {
                                 ++result.progress_messages;
                                 if (on_progress) on_progress(progress.header.arguments);
                               });
  (void)AnnounceCaller(config, transport->endpoint(), AgentRunState::kStopping);
  transport->Stop();
  if (!reply.ok()) return reply.status();
  result.header = reply->header;
  return result;
}

}  // namespace cloudbook
