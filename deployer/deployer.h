// The deployer's run: reads the project (config, DUs, the assignment in force), waits for the
// agents to announce themselves (agent 0 among them), plans and writes
// distributed/assignment.json, and with surveillance keeps watching liveness and moves the
// DUs of lost agents. docs/deployer.md describes the behaviour; the exit codes are the
// table's (shared/exit_codes.h).
#pragma once

#include <string>

#include "shared/exit_codes.h"

namespace cloudbook {

struct DeployerOptions {
  std::string project_folder;
  // The shared folder when not the one P/project.json names (or P/distributed).
  std::string shared_folder;
  bool fast_start = false;    // do not wait for agents beyond agent 0
  double surveillance_s = 0;  // > 0: keep watching, one check every this many seconds
  double wait_s = -1;         // how long to wait for agents; < 0: two announce intervals
};

class SignalEvents;

// Returns the exit code: kExitInvalidInput no project folder, no DUs or a malformed config;
// kExitUnavailable no live agent or no agent 0; kExitIo the assignment or the lease cannot be
// written; kExitConflict another deployer holds the project. `signals` (null for none):
// SIGINT or SIGTERM end the deployer cleanly with kExitOk; SIGHUP makes it re-read
// distributed/config.json.
int RunDeployer(const DeployerOptions& options, SignalEvents* signals);

}  // namespace cloudbook
