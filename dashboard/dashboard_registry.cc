#include "dashboard/dashboard_registry.h"

#include <unistd.h>

#include <climits>
#include <map>

#include "shared/atomic_file.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/agent_keys.h"
#include "shared/printable.h"
#include "shared/shared_files.h"
#include "shared/tunables.h"

namespace cloudbook {

namespace {

Json UnsignedJson(const DashboardEntry& entry) {
  return {{"format_version", kDashboardFormatVersion},
          {"host", entry.host},
          {"url", entry.url},
          {"project", entry.project},
          {"token_required", entry.token_required},
          {"pid", entry.pid},
          {"time", entry.time_ms},
          {"agent_id", entry.agent_id},
          {"signing_public_key", entry.signing_public_key}};
}

bool IsString(const Json& json, const char* key, size_t max_size) {
  return json.contains(key) && json[key].is_string() &&
         json[key].get<std::string>().size() <= max_size;
}

// The entry of one file, checked; `host` is the file's name without ".json".
Result<DashboardEntry> ParseEntry(const std::string& text, const std::string& host,
                                  const std::map<std::string, const Announcement*>& agents) {
  CB_ASSIGN_OR_RETURN(const Json json, ParseJsonText(text, "the file"));
  if (!json.is_object()) return Status::InvalidArgument("not a JSON object");
  if (!json.contains("format_version") || json["format_version"] != kDashboardFormatVersion) {
    return Status::InvalidArgument("format_version must be " +
                                   std::to_string(kDashboardFormatVersion) +
                                   " (signed; an older cloudbook wrote it unsigned)");
  }
  for (const char* key : {"host", "url", "project", "agent_id", "signing_public_key"}) {
    if (!IsString(json, key, 255))
      return Status::InvalidArgument(std::string(key) + " must be a string");
  }
  if (!json.contains("time") || !json["time"].is_number_integer() ||
      !json.contains("token_required") || !json["token_required"].is_boolean()) {
    return Status::InvalidArgument("time must be an integer and token_required true or false");
  }
  DashboardEntry entry;
  entry.host = json["host"].get<std::string>();
  entry.url = json["url"].get<std::string>();
  entry.project = json["project"].get<std::string>();
  entry.agent_id = json["agent_id"].get<std::string>();
  entry.signing_public_key = json["signing_public_key"].get<std::string>();
  entry.time_ms = json["time"].get<int64_t>();
  entry.token_required = json["token_required"].get<bool>();
  if (entry.host != host) {
    return Status::InvalidArgument("holds the host '" + entry.host + "', not the file's name");
  }
  if (!IsPrintable(entry.project)) return Status::InvalidArgument("project must be printable");
  CB_ASSIGN_OR_RETURN(entry.url, DashboardOrigin(entry.url));
  if (!ValidateAgentId(entry.agent_id).ok() || !IsHex(entry.signing_public_key, 32)) {
    return Status::InvalidArgument(
        "agent_id must be an agent id, signing_public_key 64 hex digits");
  }
  CB_RETURN_IF_ERROR(VerifyCanonicalJson(json, entry.signing_public_key));
  const auto agent = agents.find(entry.agent_id);
  if (agent == agents.end()) {
    return Status::InvalidArgument("signed by " + entry.agent_id +
                                   ", which has no valid announcement in the shared folder");
  }
  if (agent->second->signing_public_key != entry.signing_public_key) {
    return Status::InvalidArgument("signed with a key that is not the one " + entry.agent_id +
                                   " announces");
  }
  if (DashboardHostNameOf(agent->second->host) != entry.host) {
    return Status::InvalidArgument("claims host '" + entry.host + "', but " + entry.agent_id +
                                   " runs on '" + agent->second->host + "'");
  }
  return entry;
}

}  // namespace

std::string DashboardHostNameOf(const std::string& host_name) {
  if (host_name.empty()) return "localhost";
  std::string host = host_name;
  for (char& c : host) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (!plain) c = '_';
  }
  if (host[0] == '.' || host[0] == '-') host[0] = '_';
  return host.substr(0, 64);
}

std::string DashboardHostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return DashboardHostNameOf(name);
}

Result<std::string> DashboardOrigin(const std::string& url) {
  const auto bad = [&] {
    return Status::InvalidArgument("url must be http://<address>:<port>, not '" + Printable(url) +
                                   "'");
  };
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return bad();
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= rest.size()) return bad();
  std::string address = rest.substr(0, colon);
  const std::string port = rest.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    return bad();
  }
  const bool bracketed = address.size() > 2 && address.front() == '[' && address.back() == ']';
  const std::string bare = bracketed ? address.substr(1, address.size() - 2) : address;
  if (!IsHostNameOrAddress(bare) || (!bracketed && bare.find(':') != std::string::npos)) {
    return bad();
  }
  return scheme + address + ":" + port;
}

Status AnnounceDashboard(const ProjectLayout& layout, const DashboardEntry& entry,
                         const std::string& secret_key) {
  CB_RETURN_IF_ERROR(MakeFolders(layout.dashboards()));
  CB_ASSIGN_OR_RETURN(Json signed_json, SignCanonicalJson(UnsignedJson(entry), secret_key));
  return WriteJsonFileAtomically(layout.shared().dashboard_file(entry.host), signed_json);
}

void WithdrawDashboard(const ProjectLayout& layout, const std::string& host) {
  (void)RemovePath(layout.shared().dashboard_file(host));
}

Json ListDashboards(const ProjectLayout& layout, const std::string& own_host, int64_t now_ms,
                    const std::vector<Announcement>& agents,
                    std::vector<IgnoredDashboard>* ignored) {
  Json list = Json::array();
  Result<std::vector<std::string>> names = ListFolder(layout.dashboards());
  if (!names.ok()) return list;
  std::map<std::string, const Announcement*> by_id;
  for (const Announcement& agent : agents) by_id[agent.id] = &agent;
  for (const std::string& name : *names) {
    if (name.empty() || name[0] == '.') continue;  // atomic-write temporaries
    const std::string path = layout.dashboards() + "/" + name;
    const auto ignore = [&](const std::string& reason) {
      if (ignored != nullptr) ignored->push_back({Printable(path), Printable(reason)});
    };
    if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".json") != 0) {
      ignore("not a .json file");
      continue;
    }
    const std::string host = name.substr(0, name.size() - 5);
    if (!ValidateAgentId(host).ok()) {
      ignore("the file name is not a host name");
      continue;
    }
    Result<std::string> text = ReadRegularFileBounded(path, kMaxDashboardFileBytes);
    if (!text.ok()) {
      if (text.status().code() != Status::Code::kNotFound) ignore(text.status().message());
      continue;
    }
    Result<DashboardEntry> entry = ParseEntry(*text, host, by_id);
    if (!entry.ok()) {
      ignore(entry.status().message());
      continue;
    }
    if (now_ms - entry->time_ms > GetTunables().dashboard_stale_ms.count()) continue;
    list.push_back({{"host", host},
                    {"url", entry->url},
                    {"origin", entry->url},
                    {"project", entry->project},
                    {"token_required", entry->token_required},
                    {"time", entry->time_ms},
                    {"self", host == own_host},
                    {"agent_id", entry->agent_id},
                    {"verified", true}});
  }
  return list;
}

}  // namespace cloudbook
