// `cloudbook-agent list`: the agents of a project as this machine sees them, from the local
// configs (P/agents/) and the announcements in the shared folder (distributed/agents/).
// Status: "running" (its pid file is locked; or, for another machine's agent, a fresh
// announcement), "starting" / "stopping" (as announced), "stopped", or "stale" (alive by its
// pid file or last announcement, but no new announcement for 3 intervals: hung or cut off).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/formats/announcement.h"
#include "shared/formats/announcement_watch.h"
#include "shared/json_io.h"

namespace cloudbook {

struct AgentListEntry {
  std::string id;
  std::string grant;
  std::string status;
  bool local = false;  // created on this machine
  bool agent_0 = false;
  std::string host;      // from the announcement, "" when never announced
  std::string endpoint;  // idem
  std::vector<int> dus;
  int64_t last_seen_ms = 0;  // announcement time (unix ms), 0 when none
  long pid = 0;              // a running local agent's pid
};

struct AgentListOptions {
  // The project's shared folder when it is not (only) where this machine's agents point: a
  // machine with no agent of its own still lists the project's agents from it.
  std::string shared_folder;
  // Ignored announcements: logged here (true), or handed to `ignored` for the caller to report.
  bool log_ignored = true;
  std::vector<IgnoredAnnouncement>* ignored = nullptr;
  // When set, receives every valid (signed) announcement read, sorted by id.
  std::vector<Announcement>* announced = nullptr;
  // A caller that lists again and again (the dashboard) passes its watch: staleness is then
  // judged by new sequences on this machine's steady clock, so an agent whose clock is off is
  // never shown stale while it announces. Without one (a single listing), by `now_ms` against
  // the announcement's time (the writer's clock). Observed by ListAgents.
  AnnouncementWatch* watch = nullptr;
};

// Sorted by id. Ignored announcements are left out (and logged, see AgentListOptions).
std::vector<AgentListEntry> ListAgents(const std::string& project_folder, int64_t now_ms,
                                       const AgentListOptions& options = {});

// A fixed-width table with a header line; "no agents" text when empty.
std::string FormatAgentTable(const std::vector<AgentListEntry>& entries, int64_t now_ms);
Json AgentListJson(const std::vector<AgentListEntry>& entries);

}  // namespace cloudbook
