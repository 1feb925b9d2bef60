// The short agent commands: create, edit, delete and stop (launch is agent_launch.h, list is
// agent_listing.h). Each returns a CommandOutcome whose message says what to do next.
#pragma once

#include <optional>
#include <string>

#include "agent/core/command_outcome.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/grant.h"

namespace cloudbook {

struct CreateOptions {
  std::string project_folder;
  Grant grant = Grant::kLow;
  bool agent_0 = false;
  int fixed_port = 0;  // > 0: always this port
  int base_port = kDefaultBasePort;
  DeviceChoice device = DeviceChoice::kAuto;
  std::string subnet;
  std::string bind_address = "auto";
  std::string shared_folder;  // "" = <project>/distributed
  bool plaintext = false;
  bool cuda_available = false;  // from the torch part of the build
};

// Creates P/agents/<id>.json (0600) with fresh keys; `created_id` receives the id. Refuses a
// second agent 0: one created on this machine (P/agents/) or announced by another machine
// (distributed/agents/agent-0.json).
CommandOutcome CreateAgent(const CreateOptions& options, std::string* created_id);

struct EditOptions {
  std::string project_folder;
  std::string agent_id;
  std::optional<Grant> grant;
  std::optional<DeviceChoice> device;
  std::optional<int> fixed_port;  // 0 = back to the first free from base_port
  std::optional<int> base_port;
  std::optional<std::string> subnet;  // "" = none
  bool cuda_available = false;
};

// Rewrites the local config atomically; when the agent runs, sends it SIGHUP so that a new
// grant (or device) applies without a restart. `note` receives what happened, for the user.
CommandOutcome EditAgent(const EditOptions& options, std::string* note);

// Removes the local config (and the stale pid file), and this agent's own announcement and
// stats files when they carry its signing key. Refuses while the agent runs (kExitConflict).
CommandOutcome DeleteAgent(const std::string& project_folder, const std::string& agent_id);

// SIGTERM to the running agent, then waits (pidfd, no polling) up to `timeout_s` for its exit.
// kExitConflict when it is not running or did not stop in time.
CommandOutcome StopAgent(const std::string& project_folder, const std::string& agent_id,
                         double timeout_s);

}  // namespace cloudbook
