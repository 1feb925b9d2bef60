// The deployer's run: reads the project (config, DUs, the assignment in force), waits for the
// agents to announce themselves (agent 0 among them), plans and writes
// distributed/assignment.json, and with surveillance keeps watching liveness and moves the
// DUs of lost agents. docs/deployer.md describes the behaviour and the exit codes.
#pragma once

#include <string>

namespace cloudbook {

// Exit codes of cloudbook-deployer (also in --help and docs/deployer.md).
inline constexpr int kDeployerExitOk = 0;
inline constexpr int kDeployerExitUsage = 2;     // bad command line (CLI11)
inline constexpr int kDeployerExitNotReady = 3;  // no DUs, malformed config, no project
inline constexpr int kDeployerExitNoAgents = 4;  // no live agent, or no agent 0
inline constexpr int kDeployerExitIo = 5;        // the assignment could not be written
inline constexpr int kDeployerExitBusy = 6;      // another deployer holds the project

struct DeployerOptions {
  std::string project_folder;
  // The shared folder when not the one P/project.json names (or P/distributed).
  std::string distributed_folder;
  bool fast_start = false;    // do not wait for agents beyond agent 0
  double surveillance_s = 0;  // > 0: keep watching, one check every this many seconds
  double wait_s = -1;         // how long to wait for agents; < 0: two announce intervals
};

class SignalEvents;

// Returns the exit code. `signals` (null for none): SIGINT or SIGTERM end the deployer cleanly
// with kDeployerExitOk; SIGHUP makes it re-read distributed/config.json.
int RunDeployer(const DeployerOptions& options, SignalEvents* signals);

}  // namespace cloudbook
