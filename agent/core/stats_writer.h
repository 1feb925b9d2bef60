// Writes distributed/stats/<id>.json (shared/formats/agent_stats.h) every stats interval (the
// agent is its one writer, atomically): process CPU and memory, machine CPU and memory,
// network bytes, and per-DU training progress supplied by the DU runtime. Not thread-safe:
// the agent's main loop owns it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/core/system_sampler.h"
#include "shared/formats/agent_stats.h"
#include "shared/status.h"

namespace cloudbook {

// Peer id -> whether this agent hears its ZeroMQ heartbeats now. Published so that the
// deployer can tell a silent announcement from a dead agent (docs/deployer.md).
using PeerLivenessView = std::map<std::string, bool>;

// The stats for the interval between two samples (shared/formats/agent_stats.h), figures
// rounded as written.
AgentStats SampleStats(const std::string& agent_id, int64_t time_ms, const SystemSample& before,
                       const SystemSample& after, const std::vector<DuProgress>& dus,
                       const PeerLivenessView& peers = {});

class StatsWriter {
 public:
  // Takes the first sample now: the first Write reports the interval since construction.
  StatsWriter(std::string shared_folder, std::string agent_id);

  // Samples, writes the file for the interval since the previous sample, keeps the new one.
  Status Write(const std::vector<DuProgress>& dus, const PeerLivenessView& peers = {});
  const std::string& path() const { return path_; }

 private:
  std::string shared_folder_;
  std::string agent_id_;
  std::string path_;
  SystemSample previous_;
};

}  // namespace cloudbook
