// The local control channel of agent 0: how `cloudbook-run` on the owner's machine asks the
// running agent 0 to run the program. Agent 0 serves a second PeerTransport on 127.0.0.1 that
// accepts one client key only: agent 0's own (CURVE), which only whoever can read the 0600
// local config P/agents/<id>.json holds. Where it listens is in P/agents/<id>.control (local,
// 0600, rewritten at every launch). The launcher therefore never impersonates agent 0 on the
// peer network: it talks to the running agent 0, which does the work.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/transport/peer_transport.h"
#include "shared/formats/agent_config.h"
#include "shared/status.h"

namespace cloudbook {

// The authenticated id of the launcher on the control channel, and the peer id under which
// the launcher reaches agent 0.
inline constexpr const char* kLauncherId = "cloudbook-run";
inline constexpr const char* kControlPeerId = "agent-0-control";
// The authenticated id of cloudbook-serve on the control channel.
inline constexpr const char* kServeClientId = "cloudbook-serve";

struct ControlEndpoint {
  std::string endpoint;  // tcp://127.0.0.1:<port>
  int64_t pid = 0;       // the agent process serving it
  bool plaintext = false;
};

std::string ControlFilePath(const std::string& project_folder, const std::string& agent_id);
Status WriteControlFile(const std::string& project_folder, const std::string& agent_id,
                        const ControlEndpoint& control);
// NotFound when the agent does not serve a control channel (not launched, or not agent 0).
Result<ControlEndpoint> ReadControlFile(const std::string& project_folder,
                                        const std::string& agent_id);

// Agent 0's side: binds 127.0.0.1 on a free port with the agent's keys, serving `handler`.
Result<std::unique_ptr<PeerTransport>> StartControlServer(const AgentConfig& config,
                                                          InvokeHandler handler);
// A client's side: a transport whose one peer is kControlPeerId, as `client_id` (kLauncherId
// with agent 0's keys, or kServeClientId with the keys derived from them).
Result<std::unique_ptr<PeerTransport>> ConnectControlClient(
    const AgentConfig& config, const ControlEndpoint& control,
    const std::string& client_id = kLauncherId);

}  // namespace cloudbook
