#include "deployer/peer_reports.h"

namespace cloudbook {

PeerReportScan ReadPeerReports(const std::string& shared_folder) {
  AgentStatsScan stats = ReadAgentStats(shared_folder);
  PeerReportScan scan;
  scan.ignored = std::move(stats.ignored);
  for (auto& [id, report] : stats.valid) {
    scan.reports.push_back({id, report.time_ms, std::move(report.peers)});
  }
  return scan;
}

}  // namespace cloudbook
