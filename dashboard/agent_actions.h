// What the dashboard's buttons do to this machine's agents: create, launch, stop, change the
// grant, remove. Each calls the code `cloudbook-agent` runs for the same subcommand
// (agent/core/agent_commands.h); launch starts `cloudbook-agent launch` as its own session
// (it outlives the dashboard), its output in P/agents/<id>.log. Answers carry an HTTP status
// and a JSON body ({"id", "message"} or {"error"}).
#pragma once

#include <string>

#include "shared/json_io.h"

namespace cloudbook {

struct ActionResult {
  int http_status = 200;
  Json body;
};

class AgentActions {
 public:
  // `agent_program`: the cloudbook-agent executable that `launch` starts.
  AgentActions(std::string project_folder, std::string agent_program);

  // body {"grant": "LOW|MEDIUM|HIGH", "agent_0": bool}; 201 {"id"}.
  ActionResult Create(const Json& body) const;
  // 202 {"id", "pid", "log"} once the agent holds its pid file; 409 when it already runs;
  // 500 with the end of its log when it exits at once.
  ActionResult Launch(const std::string& agent_id) const;
  ActionResult Stop(const std::string& agent_id, double timeout_s) const;
  // body {"grant": ...}; a running agent applies it at once (SIGHUP).
  ActionResult EditGrant(const std::string& agent_id, const Json& body) const;
  ActionResult Remove(const std::string& agent_id) const;

 private:
  // 400 for a malformed id, 404 for an agent with no local config here; else 0.
  ActionResult CheckLocalAgent(const std::string& agent_id) const;

  std::string project_folder_;
  std::string agent_program_;
};

// The cloudbook-agent beside this executable, else the one on $PATH, else "".
std::string FindAgentProgram();

}  // namespace cloudbook
