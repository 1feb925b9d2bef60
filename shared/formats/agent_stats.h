// distributed/stats/<id>.json: what an agent reports every stats interval (its one writer,
// atomically; agent/core/stats_writer.h samples the figures): process and machine CPU and
// memory, network bytes, per-DU training progress, and which peers it hears over ZeroMQ. Read
// by the deployer (a silent announcement vs a dead agent) and the dashboard (tables, charts).
// Readers trust nothing: a figure that is missing stays empty; a wrong type is an error.
// Free functions, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "shared/json_io.h"
#include "shared/status.h"

namespace cloudbook {

inline constexpr int kStatsFormatVersion = 1;
inline constexpr size_t kMaxStatsBytes = 1024 * 1024;

struct DuProgress {
  int du = 0;
  int epoch = 0;
  double loss = 0;  // NaN (written as null) until the first batch
  double samples_per_second = 0;
};

// Whether the reporter hears a peer's heartbeats, and when it last did (its clock; 0 when
// not heard now: written as null).
struct PeerHeard {
  bool alive = false;
  int64_t last_heard_ms = 0;
};

struct AgentStats {
  std::string id;
  int64_t time_ms = 0;  // the writer's unix time, milliseconds
  double interval_s = 0;
  std::optional<double> process_cpu_percent;
  std::optional<int64_t> process_rss_bytes;
  std::optional<double> machine_cpu_percent;
  std::optional<int64_t> memory_total_bytes;
  std::optional<int64_t> memory_available_bytes;
  // Cumulative counters of the machine's interfaces (loopback apart).
  std::optional<int64_t> rx_bytes;
  std::optional<int64_t> tx_bytes;
  std::optional<int64_t> loopback_rx_bytes;
  std::optional<int64_t> loopback_tx_bytes;
  std::optional<double> gpu_utilization_percent;  // only from a build that samples a GPU
  std::vector<DuProgress> dus;
  std::map<std::string, PeerHeard> peers;
};

// The document as written: "format_version", "id", "time", "interval_s", "process",
// "machine", "network", "dus", "peers" ({id: {"alive": bool, "last_heard_ms": ms or null}}).
Json ToJson(const AgentStats& stats);

// Checks one file's text: a JSON object, "id" equal to `expected_id` (the file's name), an
// integer "time", and the types of whatever else is present. The message is the reason.
Result<AgentStats> ParseAgentStats(const std::string& text, const std::string& source,
                                   const std::string& expected_id);

struct IgnoredStatsFile {
  std::string path;
  std::string reason;
};

struct AgentStatsScan {
  std::map<std::string, AgentStats> valid;  // by agent id
  std::vector<IgnoredStatsFile> ignored;
};

// Reads every <shared folder>/stats/*.json. Ignores (listed in `ignored`, no log line: callers
// log each once) names that are not <agent id>.json, symlinks, non-regular or oversized files,
// and files ParseAgentStats refuses. Hidden files (atomic-write temporaries) and files removed
// since the listing are skipped. A missing folder gives an empty scan.
AgentStatsScan ReadAgentStats(const std::string& shared_folder);

}  // namespace cloudbook
