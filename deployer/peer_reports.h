// What the agents say about each other: the "peers" object of their stats files
// (distributed/stats/<id>.json), {"<peer id>": {"alive": bool, "last_heard_ms": unix ms or
// null}}, filled from the ZeroMQ heartbeats of the data path. The deployer uses it so that an
// agent whose announcements stopped (a slow or cut-off shared folder) but whose heartbeats
// still arrive is not declared lost. Stats files without "peers" give reports with no peers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shared/formats/agent_stats.h"  // PeerHeard

namespace cloudbook {

struct PeerReport {
  std::string reporter;  // the agent that wrote the stats file
  int64_t time_ms = 0;   // when it wrote it (its clock)
  std::map<std::string, PeerHeard> peers;
};

struct PeerReportScan {
  std::vector<PeerReport> reports;  // sorted by reporter
  std::vector<IgnoredStatsFile> ignored;
};

// Reads every distributed/stats/*.json (ReadAgentStats: what it ignores is listed in
// `ignored`, no log line: the caller logs each once). A missing folder gives an empty scan.
PeerReportScan ReadPeerReports(const std::string& shared_folder);

}  // namespace cloudbook
