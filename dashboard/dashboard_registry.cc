#include "dashboard/dashboard_registry.h"

#include <unistd.h>

#include <climits>

#include "agent/core/agent_id.h"
#include "shared/atomic_file.h"
#include "shared/shared_files.h"

namespace cloudbook {

std::string DashboardHostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  std::string host = name;
  for (char& c : host) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (!plain) c = '_';
  }
  if (host[0] == '.' || host[0] == '-') host[0] = '_';
  return host.substr(0, 64);
}

Status AnnounceDashboard(const ProjectLayout& layout, const DashboardEntry& entry) {
  CB_RETURN_IF_ERROR(MakeFolders(layout.dashboards()));
  return WriteJsonFileAtomically(layout.dashboards() + "/" + entry.host + ".json",
                                 {{"format_version", 1},
                                  {"host", entry.host},
                                  {"url", entry.url},
                                  {"project", entry.project},
                                  {"token_required", entry.token_required},
                                  {"pid", entry.pid},
                                  {"time", entry.time_ms}});
}

void WithdrawDashboard(const ProjectLayout& layout, const std::string& host) {
  (void)RemovePath(layout.dashboards() + "/" + host + ".json");
}

Json ListDashboards(const ProjectLayout& layout, const std::string& own_host, int64_t now_ms) {
  Json list = Json::array();
  Result<std::vector<std::string>> names = ListFolder(layout.dashboards());
  if (!names.ok()) return list;
  for (const std::string& name : *names) {
    if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".json") != 0) continue;
    const std::string host = name.substr(0, name.size() - 5);
    if (!ValidateAgentId(host).ok()) continue;
    Result<std::string> text =
        ReadRegularFileBounded(layout.dashboards() + "/" + name, kMaxDashboardFileBytes);
    if (!text.ok()) continue;
    Result<Json> entry = ParseJsonText(*text, name);
    if (!entry.ok() || !entry->is_object()) continue;
    const Json& e = *entry;
    if (!e.contains("url") || !e["url"].is_string() || !e.contains("time") ||
        !e["time"].is_number_integer() || ValueOr(e, "host", std::string()) != host) {
      continue;
    }
    const std::string url = e["url"].get<std::string>();
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) continue;
    const int64_t time = e["time"].get<int64_t>();
    if (now_ms - time > kDashboardStaleMs) continue;
    list.push_back({{"host", host},
                    {"url", url},
                    {"project", ValueOr(e, "project", std::string())},
                    {"token_required", ValueOr(e, "token_required", false)},
                    {"time", time},
                    {"self", host == own_host}});
  }
  return list;
}

}  // namespace cloudbook
