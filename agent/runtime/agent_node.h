// A launched agent's network side: the ZeroMQ transport (CURVE, peers from the announcements
// in the shared folder) serving the DU functions of DuRuntime. Plugs into the launch loop as
// its AgentServices (agent/core/agent_services.h). Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/core/agent_services.h"
#include "agent/runtime/du_runtime.h"
#include "agent/transport/peer_transport.h"

namespace cloudbook {

class AgentNode final : public AgentServices {
 public:
  AgentNode() = default;
  ~AgentNode() override;

  Status Start(AgentServicesContext& context) override;
  void ApplyLimits(const GrantLimits& limits) override;
  std::vector<int> Dus() override;
  std::vector<DuProgress> Progress() override;
  void Stop() override;

  // Connects to every live announced agent (called on each stats tick, and when an unknown
  // key knocks).
  void RefreshPeers();

 private:
  static constexpr double kEpochFinishSeconds = 20;

  bool Authorize(const std::string& public_key, std::string* agent_id);
  Result<WireMessage> Handle(InvokeContext& context);

  std::string distributed_folder_;
  std::string own_id_;
  double announce_interval_s_ = 5;
  std::unique_ptr<DuRuntime> runtime_;
  std::unique_ptr<PeerTransport> transport_;
  std::mutex mutex_;
  std::map<std::string, std::string> agent_by_key_;  // CURVE public key -> agent id
  std::map<std::string, std::string> pinned_signing_keys_;
};

// The wire reply of a DU function: values as arguments, arrays as float32 tensor frames that
// keep their Array alive until sent (no copy).
WireMessage ReplyMessage(DuReply reply);

}  // namespace cloudbook
