// An agent's local config, P/agents/<id>.json: who it is, what it lends, its keys and where
// the shared folder is. Never in the shared folder; written atomically with mode 0600 because
// it holds the secret keys. Created by `cloudbook-agent create`, changed by `edit`, read by
// `launch` (and again on SIGHUP).
#pragma once

#include <string>
#include <vector>

#include "shared/formats/agent_keys.h"
#include "shared/formats/grant.h"
#include "shared/json_io.h"
#include "shared/status.h"

namespace cloudbook {

inline constexpr int kAgentConfigFormatVersion = 1;
inline constexpr int kDefaultBasePort = 5550;

struct AgentConfig {
  std::string id;
  Grant grant = Grant::kLow;
  bool agent_0 = false;
  std::string created;  // UTC, ISO 8601 ("2024-05-01T12:00:00Z")
  CurveKeyPair curve;
  SigningKeyPair signing;
  std::string shared_folder;          // absolute; default <project>/distributed
  int base_port = kDefaultBasePort;   // first free port from here...
  int fixed_port = 0;                 // ...unless this is > 0
  std::string bind_address = "auto";  // auto (the published address), 0.0.0.0, or an IPv4
  std::string subnet;  // preferred network range (CIDR) of the published address, or ""
  DeviceChoice device = DeviceChoice::kAuto;
  bool plaintext = false;  // no CURVE: trusted networks only, logged loudly
};

Json ToJson(const AgentConfig& config);
// Checks every field (types, ranges, key formats and that each public key matches its
// secret); the message names the file and the field.
Result<AgentConfig> AgentConfigFromJson(const Json& json, const std::string& source);

// Reads P/agents/<id>.json. A missing file is NotFound with a message that says how to see
// the agents of the project. Warns when the file is readable by others.
Result<AgentConfig> ReadAgentConfig(const std::string& project_folder, const std::string& id);
// Writes P/agents/<id>.json atomically with mode 0600 (folder 0700 when created).
Status WriteAgentConfig(const std::string& project_folder, const AgentConfig& config);

// Every readable local config of the project, sorted by id; unreadable ones are reported in
// `problems` (one line each) and skipped.
std::vector<AgentConfig> ReadLocalAgentConfigs(const std::string& project_folder,
                                               std::vector<std::string>* problems);

// Bind address validation shared with the command line: "auto", "0.0.0.0" or an IPv4.
Status ValidateBindAddress(const std::string& bind_address);

}  // namespace cloudbook
