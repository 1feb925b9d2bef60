// Agent 0's main program (DU 0's role): one run of the deconstructed network across the
// project's agents. For every DU, in parallel: find its owner in distributed/assignment.json,
// invoke `train` there (locally for agent 0's own DUs) and follow its progress; when the owner
// is lost, wait for the deployer's new assignment and invoke `train` on the new owner, which
// resumes from the DU's last checkpoint. Then gather every DU's `predict` tensors, compose
// them by the program's rule, score them, and write distributed/results/<run>.json.
// Torch-free: the DUs are reached through a DuCaller (agent_node.cc provides the real one).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "shared/data/dataset_loader.h"
#include "shared/json_io.h"
#include "shared/status.h"
#include "shared/tunables.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

// Calls one DU function on an agent and blocks until its answer.
struct DuCallRequest {
  std::string agent;
  std::string function;  // train | predict | infer
  int du = -1;
  WireArguments arguments;
  // Input arrays sent with the call (infer: "x"), not copied.
  std::vector<std::pair<std::string, std::shared_ptr<const Array>>> tensors;
  std::chrono::milliseconds timeout{0};
  std::function<void(const WireArguments&)> on_progress;  // may be empty
  std::atomic<bool>* cancel =
      nullptr;  // ends the call early when set (a stopping callee may set it)
};

// The answer, or an error whose `remote` says who failed: true when the agent ran the
// function and it failed (its message), false when the agent could not be reached or
// answer (lost, refused, deadline, connection lost).
struct DuCallOutcome {
  Status status;
  bool remote = false;
  WireMessage reply;
};

class DuCaller {
 public:
  virtual ~DuCaller() = default;
  virtual DuCallOutcome CallDu(const DuCallRequest& request) = 0;
  // Whether `agent` can be called now (connects to it if needed); waits at most `timeout`.
  virtual bool WaitReachable(const std::string& agent, std::chrono::milliseconds timeout) = 0;
};

struct RunRequest {
  std::string run_name;                            // empty: run-<UTC time>
  double timeout_s = GetTunables().run_timeout_s;  // the whole run
  // For an assignment of the current DU set.
  double assignment_wait_s = GetTunables().run_assignment_wait_s;
  double reachable_wait_s = GetTunables().run_reachable_wait_s;  // per attempt, for an owner
  // After composing, also train the original network on agent 0 (its lent cores) and
  // report it beside the composed result ("baseline" and "comparison" in the results).
  bool baseline = false;
};

struct RunEnvironment {
  std::string project_folder;
  std::string shared_folder;
  std::string own_id;  // agent 0
  DuCaller* caller = nullptr;
  // Receives every event for the launcher (docs/launcher.md), each with "run" and
  // "elapsed_seconds": {"event": "start", dus, project}; {"event": "du", du, agent, state
  // (assigned | started | training | trained), subnets, subnet_position, subnet, epoch,
  // epochs, loss, accuracy, val_loss, val_accuracy, samples_per_second, eta_seconds};
  // {"event": "note", message}; {"event": "baseline", epoch, epochs, loss, ...}.
  std::function<void(const WireArguments&)> on_event;
  const std::atomic<bool>* cancel = nullptr;
  // The project's data (only its test set is used); empty: read from working_dir here.
  std::function<Result<std::shared_ptr<const ProblemData>>()> load_data;
};

struct RunReport {
  Json results;
  std::string results_path;
};

Result<RunReport> CoordinateRun(const RunEnvironment& environment, const RunRequest& request);

}  // namespace cloudbook
