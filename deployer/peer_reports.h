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

namespace cloudbook {

inline constexpr size_t kMaxStatsBytes = 1024 * 1024;

struct PeerHeard {
  bool alive = false;
  int64_t last_heard_ms = 0;  // the reporter's clock
};

struct PeerReport {
  std::string reporter;  // the agent that wrote the stats file
  int64_t time_ms = 0;   // when it wrote it (its clock)
  std::map<std::string, PeerHeard> peers;
};

struct IgnoredFile {
  std::string path;
  std::string reason;
};

struct PeerReportScan {
  std::vector<PeerReport> reports;  // sorted by reporter
  std::vector<IgnoredFile> ignored;
};

// Reads every distributed/stats/*.json. Ignores (listed in `ignored`, no log line: the caller
// logs each once) symlinks, non-regular or oversized files, bad JSON, an "id" that is not the
// file's name, a missing "time", and a malformed "peers" object. Hidden files (atomic-write
// temporaries) are skipped. A missing folder gives an empty scan.
PeerReportScan ReadPeerReports(const std::string& distributed_folder);

}  // namespace cloudbook
