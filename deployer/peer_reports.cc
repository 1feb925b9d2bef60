#include "deployer/peer_reports.h"

#include <algorithm>
#include <boost/filesystem.hpp>

#include "agent/core/agent_id.h"
#include "agent/core/agent_paths.h"
#include "shared/atomic_file.h"
#include "shared/json_io.h"
#include "shared/shared_files.h"

namespace cloudbook {

namespace {

namespace fs = boost::filesystem;

// The report in one stats file's text, or the reason to ignore it.
Result<PeerReport> ParsePeerReport(const std::string& text, const std::string& path,
                                   const std::string& expected_id) {
  CB_ASSIGN_OR_RETURN(Json json, ParseJsonText(text, path));
  if (!json.is_object()) return Status::Corruption("not a JSON object");
  const auto id = json.find("id");
  if (id == json.end() || !id->is_string() || id->get<std::string>() != expected_id) {
    return Status::Corruption("'id' is not the file's name");
  }
  const auto time = json.find("time");
  if (time == json.end() || !time->is_number_integer()) {
    return Status::Corruption("no integer 'time'");
  }
  PeerReport report;
  report.reporter = expected_id;
  report.time_ms = time->get<int64_t>();
  const auto peers = json.find("peers");
  if (peers == json.end() || peers->is_null()) return report;
  if (!peers->is_object()) return Status::Corruption("'peers' must be an object");
  for (const auto& [peer, heard] : peers->items()) {
    if (!ValidateAgentId(peer).ok()) {
      return Status::Corruption("'peers' names an invalid agent id");
    }
    const auto alive = heard.find("alive");
    const auto last = heard.find("last_heard_ms");
    if (!heard.is_object() || alive == heard.end() || !alive->is_boolean() ||
        (last != heard.end() && !last->is_number_integer() && !last->is_null())) {
      return Status::Corruption("peer " + peer +
                                ": expected {\"alive\": bool, \"last_heard_ms\": integer or null}");
    }
    PeerHeard entry;
    entry.alive = alive->get<bool>();
    if (last != heard.end() && last->is_number_integer())
      entry.last_heard_ms = last->get<int64_t>();
    report.peers[peer] = entry;
  }
  return report;
}

}  // namespace

PeerReportScan ReadPeerReports(const std::string& distributed_folder) {
  PeerReportScan scan;
  const std::string folder = StatsFolder(distributed_folder);
  const Result<std::vector<std::string>> names = ListFolder(folder);
  if (!names.ok()) {
    if (names.status().code() != Status::Code::kNotFound) {
      scan.ignored.push_back({folder, "cannot list: " + names.status().message()});
    }
    return scan;
  }
  for (const std::string& name : *names) {
    if (name.empty() || name[0] == '.') continue;  // hidden files
    const std::string path = folder + "/" + name;
    const std::string id = fs::path(name).stem().string();
    if (fs::path(name).extension() != ".json" || !ValidateAgentId(id).ok()) {
      scan.ignored.push_back({path, "not <agent id>.json"});
      continue;
    }
    auto text = ReadRegularFileBounded(path, kMaxStatsBytes);
    if (!text.ok()) {
      if (text.status().code() != Status::Code::kNotFound) {
        scan.ignored.push_back({path, text.status().message()});
      }
      continue;  // removed since the listing
    }
    auto report = ParsePeerReport(*text, path, id);
    if (!report.ok()) {
      scan.ignored.push_back({path, report.status().message()});
      continue;
    }
    scan.reports.push_back(std::move(*report));
  }
  return scan;
}

}  // namespace cloudbook
