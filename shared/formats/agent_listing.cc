#include "shared/formats/agent_listing.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <chrono>
#include <map>
#include <set>

#include "shared/clock.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/announcement.h"
#include "shared/formats/pid_file.h"
#include "shared/printable.h"
#include "shared/project_layout.h"
#include "shared/text.h"

namespace cloudbook {

namespace {

std::string Age(int64_t last_seen_ms, int64_t now_ms) {
  if (last_seen_ms <= 0) return "never";
  const int64_t seconds = std::max<int64_t>(0, (now_ms - last_seen_ms) / 1000);
  if (seconds < 120) return std::to_string(seconds) + "s ago";
  if (seconds < 7200) return std::to_string(seconds / 60) + "m ago";
  if (seconds < 172800) return std::to_string(seconds / 3600) + "h ago";
  return std::to_string(seconds / 86400) + "d ago";
}

std::string JoinDus(const std::vector<int>& dus) {
  return dus.empty() ? "-" : JoinNumbers(dus, ",");
}

}  // namespace

std::vector<AgentListEntry> ListAgents(const std::string& project_folder, int64_t now_ms,
                                       const AgentListOptions& options) {
  std::vector<std::string> problems;
  const std::vector<AgentConfig> configs = ReadLocalAgentConfigs(project_folder, &problems);
  for (const std::string& problem : problems) spdlog::warn("skipping a local config: {}", problem);

  std::set<std::string> folders;
  std::map<std::string, std::string> pinned;
  for (const AgentConfig& config : configs) {
    folders.insert(config.shared_folder);
    pinned[config.id] = config.signing.public_key;
  }
  boost::system::error_code error;
  const std::string default_folder = ProjectSharedFolder(project_folder);
  if (boost::filesystem::is_directory(default_folder, error)) {
    folders.insert(boost::filesystem::absolute(default_folder).lexically_normal().string());
  }
  if (!options.shared_folder.empty()) folders.insert(options.shared_folder);
  std::map<std::string, Announcement> announced;
  for (const std::string& folder : folders) {
    AnnouncementScan scan = ReadAnnouncements(folder, pinned, options.log_ignored);
    for (Announcement& announcement : scan.valid) {
      announced.emplace(announcement.id, std::move(announcement));
    }
    if (options.ignored != nullptr) {
      options.ignored->insert(options.ignored->end(), scan.ignored.begin(), scan.ignored.end());
    }
  }

  std::vector<Announcement> all;
  for (const auto& [id, announcement] : announced) all.push_back(announcement);
  if (options.announced != nullptr) {
    options.announced->insert(options.announced->end(), all.begin(), all.end());
  }
  const int64_t steady_ms = SteadyNowMs();
  if (options.watch != nullptr) options.watch->Observe(all, steady_ms, now_ms);
  const auto stale = [&](const Announcement& announcement) {
    if (options.watch != nullptr) {
      return options.watch->Judge(announcement.id, steady_ms) ==
             AnnouncementWatch::Freshness::kStale;
    }
    return IsStale(announcement, now_ms, announcement.announce_interval_s);
  };

  std::map<std::string, AgentListEntry> entries;
  for (const AgentConfig& config : configs) {
    AgentListEntry entry;
    entry.id = config.id;
    entry.grant = GrantName(config.grant);
    entry.local = true;
    entry.agent_0 = config.agent_0;
    auto state = ReadPidFileState(ProjectLayout(project_folder).agent_pid_file(config.id));
    const bool running = state.ok() && state->running;
    entry.pid = running ? state->pid : 0;
    entry.status = running ? "running" : "stopped";
    const auto found = announced.find(config.id);
    if (found != announced.end()) {
      const Announcement& announcement = found->second;
      entry.host = announcement.host;
      entry.endpoint = announcement.endpoint;
      entry.last_seen_ms = announcement.time_ms;
      if (running) {
        entry.dus = announcement.dus;
        if (announcement.status != AgentRunState::kRunning) {
          entry.status = AgentRunStateName(announcement.status);
        }
        if (stale(announcement)) {
          entry.status = "stale";
        }
      }
    } else if (running) {
      entry.status = "starting";
    }
    entries[entry.id] = entry;
  }
  for (const auto& [id, announcement] : announced) {
    if (entries.count(id)) continue;
    AgentListEntry entry;  // created on another machine
    entry.id = id;
    entry.grant = GrantName(announcement.grant);
    entry.agent_0 = id == "agent-0";
    entry.host = announcement.host;
    entry.endpoint = announcement.endpoint;
    entry.last_seen_ms = announcement.time_ms;
    const bool silent = stale(announcement);
    if (announcement.status == AgentRunState::kStopping) {
      entry.status = silent ? "stopped" : "stopping";
    } else {
      entry.status = silent ? "stale" : AgentRunStateName(announcement.status);
      if (!silent) entry.dus = announcement.dus;
    }
    entries[id] = entry;
  }
  std::vector<AgentListEntry> list;
  for (auto& [id, entry] : entries) list.push_back(std::move(entry));
  return list;
}

std::string FormatAgentTable(const std::vector<AgentListEntry>& entries, int64_t now_ms) {
  if (entries.empty()) return "no agents (create one with `cloudbook-agent create`)\n";
  const std::vector<std::string> header = {"ID",       "GRANT", "STATUS",   "WHERE",
                                           "ENDPOINT", "DUS",   "LAST SEEN"};
  std::vector<std::vector<std::string>> rows = {header};
  for (const AgentListEntry& entry : entries) {
    const std::string where = entry.local ? "local" : (entry.host.empty() ? "-" : entry.host);
    // Announcements are validated when read; printable again here, as every string of the
    // shared folder that reaches a terminal.
    rows.push_back({Printable(entry.id) + (entry.agent_0 ? " *" : ""), Printable(entry.grant),
                    entry.status, Printable(where),
                    entry.endpoint.empty() ? "-" : Printable(entry.endpoint), JoinDus(entry.dus),
                    Age(entry.last_seen_ms, now_ms)});
  }
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string table;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    table += line + "\n";
  }
  const bool any_agent_0 = std::any_of(entries.begin(), entries.end(),
                                       [](const AgentListEntry& entry) { return entry.agent_0; });
  if (any_agent_0) table += "(* agent 0)\n";
  return table;
}

Json AgentListJson(const std::vector<AgentListEntry>& entries) {
  Json list = Json::array();
  for (const AgentListEntry& entry : entries) {
    list.push_back({{"id", entry.id},
                    {"grant", entry.grant},
                    {"status", entry.status},
                    {"local", entry.local},
                    {"agent_0", entry.agent_0},
                    {"host", entry.host},
                    {"endpoint", entry.endpoint},
                    {"dus", entry.dus},
                    {"last_seen", entry.last_seen_ms > 0 ? Json(entry.last_seen_ms) : Json()},
                    {"pid", entry.pid > 0 ? Json(entry.pid) : Json()}});
  }
  return list;
}

}  // namespace cloudbook
