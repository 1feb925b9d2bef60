// HOOK for the transport and the DU runtime. A launched agent (agent_launch.h) runs its
// announcement and stats loop and calls these around it:
//   Start   once, after the port is reserved and the "starting" announcement is written;
//           an error stops the launch (announced as stopping, exit code from the Status).
//   ApplyLimits   when a SIGHUP brings a new grant (or device): cores and GPU to use now.
//   Dus / Progress / PeerLiveness   on every announcement / stats write (loop thread).
//   Stop    once, on SIGTERM/SIGINT, after the "stopping" announcement: finish or checkpoint
//           the current epoch, say goodbye to peers; must return in bounded time.
// Implementations must be thread-safe between their own threads and these calls.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/core/port_reservation.h"
#include "agent/core/stats_writer.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/grant.h"
#include "shared/formats/project_config.h"
#include "shared/status.h"

namespace cloudbook {

struct AgentServicesContext {
  std::string project_folder;
  AgentConfig config;  // as read at launch (keys, plaintext, distributed folder)
  ProjectConfig project;
  GrantLimits limits;
  std::string bind_ip;             // "0.0.0.0" or one local IPv4 address
  std::string published_endpoint;  // tcp://address:port, as announced to peers
  // The agent's port, held by a listening socket (SO_REUSEADDR). The transport either adopts
  // the descriptor (zmq ZMQ_USE_FD on its ROUTER, then keeps it open) or calls Release() right
  // before binding tcp://<bind_ip>:<port> itself.
  PortReservation* port = nullptr;
  // Thread-safe: asks the loop for an announcement now (e.g. the DU list changed).
  std::function<void()> request_announce;
};

class AgentServices {
 public:
  virtual ~AgentServices() = default;
  virtual Status Start(AgentServicesContext& context) = 0;
  virtual void ApplyLimits(const GrantLimits& limits) = 0;
  // DU indices this agent runs now (announced).
  virtual std::vector<int> Dus() = 0;
  // Per-DU training progress (stats file).
  virtual std::vector<DuProgress> Progress() = 0;
  // Which peers this agent hears now (stats file, for the deployer's liveness rule).
  virtual PeerLivenessView PeerLiveness() { return {}; }
  virtual void Stop() = 0;
};

// Announcements and stats only: no transport, no DUs (what `launch` runs until the transport
// and the DU runtime are plugged in). Records the limits it is given.
class NullAgentServices : public AgentServices {
 public:
  Status Start(AgentServicesContext& context) override;
  void ApplyLimits(const GrantLimits& limits) override { limits_ = limits; }
  std::vector<int> Dus() override { return {}; }
  std::vector<DuProgress> Progress() override { return {}; }
  void Stop() override {}
  const GrantLimits& limits() const { return limits_; }

 private:
  GrantLimits limits_;
};

}  // namespace cloudbook
