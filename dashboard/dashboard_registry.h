// distributed/dashboards/<host>.json: where each machine's dashboard service answers, so
// that the owner's page can send actions for another machine's agents to that machine (the
// original's per-machine agent manager). One writer per file (that machine's dashboard),
// rewritten every few seconds; an entry older than dashboard_stale_ms
// (shared/tunables_def.h) is left out.
// Signed like agent announcements: the dashboard signs with the key of an agent of its own
// machine, and a reader offers the entry only when that agent's signed announcement carries
// the same key and the same host (a page sends its token for that machine to the URL).
// Plain functions over the shared folder; thread-safe as the folder's file functions are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/formats/announcement.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "shared/status.h"

namespace cloudbook {

inline constexpr int kDashboardFormatVersion = 2;
inline constexpr size_t kMaxDashboardFileBytes = 64 * 1024;

struct DashboardEntry {
  std::string host;
  std::string project;  // its name on that machine (the page sends it as ?project=)
  std::string url;      // http://<address>:<port>
  bool token_required = false;
  long pid = 0;
  int64_t time_ms = 0;
  std::string agent_id;            // the agent of this machine whose key signs the entry
  std::string signing_public_key;  // that agent's (hex Ed25519)
};

// This machine's name as a file name ([A-Za-z0-9._-], others replaced by '_').
std::string DashboardHostName();
// `host` (an announcement's) as DashboardHostName() makes it a file name.
std::string DashboardHostNameOf(const std::string& host);

// Signs `entry` with `secret_key` (the key of entry.agent_id, whose public key is
// entry.signing_public_key) and writes distributed/dashboards/<host>.json.
Status AnnounceDashboard(const ProjectLayout& layout, const DashboardEntry& entry,
                         const std::string& secret_key);
// Removes this host's file (a dashboard that stops cleanly).
void WithdrawDashboard(const ProjectLayout& layout, const std::string& host);

// "http://<host or address>:<port>" (an IPv6 address in brackets, an optional final '/'):
// the origin the page may send a token to; InvalidArgument for anything else (a path, user
// info, control characters...).
Result<std::string> DashboardOrigin(const std::string& url);

struct IgnoredDashboard {
  std::string path;    // printable
  std::string reason;  // printable
};

// Fresh, verified entries, sorted by host, each {"host", "url", "origin", "project",
// "token_required", "time", "self", "agent_id", "verified": true}. `agents`: the valid
// (signed) announcements of the project. Files that fail a check go to `ignored` with the
// reason (bad JSON or fields, a bad signature, no announcement of the signing agent, a key or
// host that differs from that announcement's); stale entries are left out silently.
Json ListDashboards(const ProjectLayout& layout, const std::string& own_host, int64_t now_ms,
                    const std::vector<Announcement>& agents,
                    std::vector<IgnoredDashboard>* ignored = nullptr);

}  // namespace cloudbook
