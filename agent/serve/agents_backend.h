// cloudbook-serve's distributed mode: predictions computed by the project's running agents.
// It talks to the launched agent 0 on this machine over its local control channel
// (agent/core/control_channel.h, as cloudbook-run does, under its own id kServeClientId), and
// calls `serve_predict` once per batch: agent 0 sends each DU of the model to its owner as
// `infer`, applies a lost owner's DUs itself and composes (agent/runtime/serve_fanout.h).
// One connection, opened by Connect and kept: a batch costs one round trip to agent 0 and
// no setup. When agent 0 was relaunched (a new control endpoint) a failed batch reconnects
// and is sent once more. Torch-free. Thread safety: Predict from one thread at a time
// (PredictionBackend's contract); errors as PredictionBackend says (InvalidArgument = the
// input's fault).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/core/control_channel.h"
#include "agent/serve/prediction_backend.h"
#include "shared/formats/agent_config.h"
#include "shared/tunables.h"

namespace cloudbook {

struct AgentsBackendOptions {
  std::string project_folder;
  std::string agent_id = "agent-0";  // agent 0's id on this machine
  std::string run;                   // empty: the newest model
  std::chrono::milliseconds connect_timeout{
      static_cast<int64_t>(GetTunables().connect_timeout_s * 1000)};
  std::chrono::milliseconds call_timeout = GetTunables().serve_call_timeout_ms;  // per batch
};

class AgentsBackend final : public PredictionBackend {
 public:
  // Reads agent 0's local config and control file, opens the run's model (shared folder) and
  // connects. NotFound when agent 0 or the model is missing; IoError when agent 0 is not
  // running or does not answer within connect_timeout (each message says what to do).
  static Result<std::unique_ptr<AgentsBackend>> Connect(const AgentsBackendOptions& options);
  ~AgentsBackend() override;

  Result<ComposedOutputs> Predict(const Array& x) override;
  const RunModel& model() const override { return model_; }
  std::string mode() const override { return "agents"; }

  // Which agent answered each DU in the last batch ("0:agent-0 1:agent-b ..."), and how many
  // DUs agent 0 applied itself because their owner failed: for logs and tests.
  const std::string& last_served_by() const { return last_served_by_; }
  int64_t last_failovers() const { return last_failovers_; }

 private:
  AgentsBackend() = default;
  Status Reconnect();
  Result<WireMessage> Call(const Array& x);

  AgentsBackendOptions options_;
  AgentConfig config_;
  ControlEndpoint control_;
  RunModel model_;
  std::unique_ptr<PeerTransport> transport_;
  std::string last_served_by_;
  int64_t last_failovers_ = 0;
};

}  // namespace cloudbook
