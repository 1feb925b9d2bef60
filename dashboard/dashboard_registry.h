// distributed/dashboards/<host>.json: where each machine's dashboard service answers, so
// that the owner's page can send actions for another machine's agents to that machine (the
// original's per-machine agent manager). One writer per file (that machine's dashboard),
// rewritten every few seconds; an entry older than kDashboardStaleMs is left out.
#pragma once

#include <cstdint>
#include <string>

#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "shared/status.h"

namespace cloudbook {

inline constexpr int64_t kDashboardStaleMs = 30'000;
inline constexpr size_t kMaxDashboardFileBytes = 64 * 1024;

struct DashboardEntry {
  std::string host;
  std::string project;  // its name on that machine (the page sends it as ?project=)
  std::string url;      // http://<address>:<port>
  bool token_required = false;
  long pid = 0;
  int64_t time_ms = 0;
};

// This machine's name as a file name ([A-Za-z0-9._-], others replaced by '_').
std::string DashboardHostName();

Status AnnounceDashboard(const ProjectLayout& layout, const DashboardEntry& entry);
// Removes this host's file (a dashboard that stops cleanly).
void WithdrawDashboard(const ProjectLayout& layout, const std::string& host);

// Fresh entries, sorted by host, each {"host", "url", "project", "token_required", "time",
// "self"}.
// Malformed files are skipped.
Json ListDashboards(const ProjectLayout& layout, const std::string& own_host, int64_t now_ms);

}  // namespace cloudbook
