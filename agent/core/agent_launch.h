// `cloudbook-agent launch`: runs one agent in the foreground until SIGTERM or SIGINT.
//   - holds P/agents/<id>.pid (refuses to start when that agent already runs);
//   - reserves its port and chooses the address peers reach;
//   - announces itself (starting, then running) and again every announce_interval_s, with a
//     new sequence number each time; writes its stats every stats_interval_s;
//   - SIGHUP: re-reads its local config (a new grant applies at once: new limits, new capacity,
//     immediate announcement) and distributed/config.json (intervals);
//   - SIGTERM / SIGINT: announces "stopping", stops the services, removes the pid file, ends.
// The loop sleeps in poll(2) until its next timer or a signal: it never busy-waits.
#pragma once

#include <functional>
#include <string>

#include "agent/core/agent_services.h"
#include "agent/core/command_outcome.h"
#include "shared/formats/announcement.h"
#include "shared/formats/grant.h"

namespace cloudbook {

struct LaunchOptions {
  std::string project_folder;
  std::string agent_id;
  // Whether this build of libtorch can use a GPU (shared/nn/capacity_probe.h); the core
  // library is torch-free, so the caller says.
  bool cuda_available = false;
  // Measures capacity under the limits (a short matrix-multiply probe); null: the lent cores
  // with 0 GFLOP/s. Called at start and when a SIGHUP changes the grant.
  std::function<AnnouncedCapacity(const GrantLimits&)> probe_capacity;
  // The transport and DU runtime (agent_services.h); null: announcements and stats only.
  AgentServices* services = nullptr;
};

CommandOutcome LaunchAgent(const LaunchOptions& options);

}  // namespace cloudbook
