// The project's liveness settings (distributed/config.json) applied to a transport, the same
// way for launched agents and for `cloudbook-agent call`: a ping every heartbeat_interval_s,
// and a peer is lost after liveness_multiplier missed heartbeats, never sooner than
// peer_timeout_floor_ms (shared/tunables_def.h).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "agent/transport/peer_transport_options.h"
#include "shared/formats/project_config.h"
#include "shared/tunables.h"

namespace cloudbook {

inline void ApplyProjectHeartbeat(const ProjectConfig& project, PeerTransportOptions* options) {
  options->heartbeat_interval =
      std::chrono::milliseconds(static_cast<int64_t>(project.heartbeat_interval_s * 1000));
  options->peer_timeout =
      std::max(GetTunables().peer_timeout_floor_ms,
               std::chrono::milliseconds(static_cast<int64_t>(
                   GetTunables().liveness_multiplier * project.heartbeat_interval_s * 1000)));
}

}  // namespace cloudbook
