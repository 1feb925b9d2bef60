// A launched agent's network side: the ZeroMQ transport (CURVE, peers from the announcements
// in the shared folder) serving the DU functions of DuRuntime. Plugs into the launch loop as
// its AgentServices (agent/core/agent_services.h). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/core/agent_services.h"
#include "agent/runtime/announced_keys.h"
#include "agent/runtime/du_runtime.h"
#include "agent/runtime/run_coordinator.h"
#include "agent/runtime/serve_fanout.h"
#include "agent/transport/peer_transport.h"
#include "shared/formats/announcement_watch.h"
#include "shared/tunables.h"

namespace cloudbook {

// Agent 0 also serves the local control channel (agent/core/control_channel.h): its `run`
// function coordinates a whole run (run_coordinator.h), calling DUs through this node, and
// `serve_predict` applies a finished run's model across the agents (serve_fanout.h).
class AgentNode final : public AgentServices, public DuCaller {
 public:
  AgentNode() = default;
  ~AgentNode() override;

  Status Start(AgentServicesContext& context) override;
  void ApplyLimits(const GrantLimits& limits) override;
  std::vector<int> Dus() override;
  std::vector<DuProgress> Progress() override;
  PeerLivenessView PeerLiveness() override;
  void Stop() override;

  // DuCaller: this agent's DUs run in its own DuRuntime, the others over the transport.
  DuCallOutcome CallDu(const DuCallRequest& request) override;
  bool WaitReachable(const std::string& agent, std::chrono::milliseconds timeout) override;

  // Connects to every live announced agent and refreshes the keys the ZAP handler accepts
  // (called on each stats tick).
  void RefreshPeers();

 private:
  Result<WireMessage> Handle(InvokeContext& context);
  // Refuses a `train` of a DU that the current assignment gives to another agent.
  Status CheckOwnership(int du) const;
  // Cancels local trainings of DUs that a newer assignment moved away (a paused or cut-off
  // agent that comes back must not keep training a DU that lives elsewhere now).
  void EnforceAssignment();
  Status StartControl(const AgentServicesContext& context);
  Result<WireMessage> HandleControl(InvokeContext& context);
  Result<WireMessage> HandleServePredict(InvokeContext& context);

  std::string project_folder_;
  std::string shared_folder_;
  std::string own_id_;
  double announce_interval_s_ = tunables_default::announce_interval_s;
  std::unique_ptr<DuRuntime> runtime_;
  std::unique_ptr<PeerTransport> transport_;
  std::unique_ptr<PeerTransport> control_;  // agent 0 only
  std::unique_ptr<ServeFanOut> serve_;      // agent 0 only
  std::atomic<bool> run_in_progress_{false};
  std::mutex mutex_;
  std::unique_ptr<AnnouncedKeyCache> keys_;  // the ZAP handler's: announced key -> agent id
  std::map<std::string, std::string> pinned_signing_keys_;
  std::set<std::string> peers_;     // ids given to the transport, guarded by mutex_
  std::mutex watch_mutex_;          // RefreshPeers runs on the stats tick and the run's thread
  AnnouncementWatch watch_;         // guarded by watch_mutex_
  std::string assignment_problem_;  // the last one logged (stats tick thread only)
};

struct AnnouncementScan;
// The CURVE keys of the valid announcements of a scan.
AnnouncedKeyCache::KeyMap KeysOf(const AnnouncementScan& scan);

// The wire reply of a DU function: values as arguments, arrays as float32 tensor frames that
// keep their Array alive until sent (no copy).
WireMessage ReplyMessage(DuReply reply);

}  // namespace cloudbook
