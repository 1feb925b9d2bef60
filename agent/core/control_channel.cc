#include "agent/core/control_channel.h"

#include <chrono>

#include "shared/formats/curve_keys.h"
#include "shared/json_io.h"
#include "shared/private_files.h"
#include "shared/project_layout.h"
#include "shared/tunables.h"

namespace cloudbook {

namespace {

constexpr size_t kMaxControlFileBytes = 4096;

PeerTransportOptions BaseOptions(const AgentConfig& config, const std::string& own_id) {
  PeerTransportOptions options;
  options.agent_id = own_id;
  options.plaintext = config.plaintext;
  options.keys = config.curve;
  options.bind_endpoint = "tcp://127.0.0.1:0";
  // Agent 0 may be busy training on every lent core: allow its heartbeats some slack.
  options.peer_timeout = GetTunables().control_peer_timeout_ms;
  options.max_concurrent_invokes = 2;
  options.max_queued_invokes = 2;
  return options;
}

constexpr const char* kServeKeyPurpose = "cloudbook-serve control client";

// The keys a control client of `client_id` presents.
Result<CurveKeyPair> ClientKeys(const AgentConfig& config, const std::string& client_id) {
  if (client_id == kLauncherId) return config.curve;
  if (client_id == kServeClientId) return DeriveCurveKeyPair(config.curve, kServeKeyPurpose);
  return Status::InvalidArgument("no control client is called '" + client_id + "'");
}

}  // namespace

std::string ControlFilePath(const std::string& project_folder, const std::string& agent_id) {
  return ProjectLayout(project_folder).agent_control_file(agent_id);
}

Status WriteControlFile(const std::string& project_folder, const std::string& agent_id,
                        const ControlEndpoint& control) {
  const Json json = {
      {"endpoint", control.endpoint}, {"pid", control.pid}, {"plaintext", control.plaintext}};
  return WritePrivateFileAtomically(ControlFilePath(project_folder, agent_id), json.dump() + "\n");
}

Result<ControlEndpoint> ReadControlFile(const std::string& project_folder,
                                        const std::string& agent_id) {
  const std::string path = ControlFilePath(project_folder, agent_id);
  auto text = ReadRegularFileBounded(path, kMaxControlFileBytes);
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) {
      return Status::NotFound("agent " + agent_id + " serves no control channel (" + path +
                              " is missing): launch it with `cloudbook-agent launch "
                              "--project-folder " +
                              project_folder + " --agent-id " + agent_id + "`");
    }
    return Status::Corruption(path + ": " + text.status().message());
  }
  CB_ASSIGN_OR_RETURN(Json json, ParseJsonText(*text, path));
  ControlEndpoint control;
  if (!json.is_object() || !json.contains("endpoint") || !json["endpoint"].is_string() ||
      !json.contains("pid") || !json["pid"].is_number_integer()) {
    return Status::Corruption(path + ": not a control file (relaunch the agent to rewrite it)");
  }
  control.endpoint = json["endpoint"].get<std::string>();
  control.pid = json["pid"].get<int64_t>();
  control.plaintext = json.value("plaintext", false);
  if (control.endpoint.rfind("tcp://127.0.0.1:", 0) != 0) {
    return Status::Corruption(path + ": the control endpoint must be on 127.0.0.1, not " +
                              control.endpoint);
  }
  return control;
}

Result<std::unique_ptr<PeerTransport>> StartControlServer(const AgentConfig& config,
                                                          InvokeHandler handler) {
  PeerTransportOptions options = BaseOptions(config, config.id);
  const std::string own_key = config.curve.public_key;
  std::string serve_key;
  if (!config.plaintext) {
    CB_ASSIGN_OR_RETURN(CurveKeyPair serve, ClientKeys(config, kServeClientId));
    serve_key = serve.public_key;
  }
  options.authorizer = [own_key, serve_key](const std::string& key, std::string* id) {
    if (key == own_key) {
      *id = kLauncherId;
      return true;
    }
    if (!serve_key.empty() && key == serve_key) {
      *id = kServeClientId;
      return true;
    }
    return false;
  };
  return PeerTransport::Start(std::move(options), std::move(handler));
}

Result<std::unique_ptr<PeerTransport>> ConnectControlClient(const AgentConfig& config,
                                                            const ControlEndpoint& control,
                                                            const std::string& client_id) {
  PeerTransportOptions options = BaseOptions(config, client_id);
  options.plaintext = control.plaintext;
  if (!control.plaintext) {
    CB_ASSIGN_OR_RETURN(options.keys, ClientKeys(config, client_id));
  }
  options.authorizer = [](const std::string&, std::string*) { return false; };
  CB_ASSIGN_OR_RETURN(
      std::unique_ptr<PeerTransport> transport,
      PeerTransport::Start(std::move(options), [](InvokeContext&) -> Result<WireMessage> {
        return Status::InvalidArgument("a control client serves nothing");
      }));
  CB_RETURN_IF_ERROR(transport->AddPeer(kControlPeerId, control.endpoint, config.curve.public_key));
  return transport;
}

}  // namespace cloudbook
