#include "shared/formats/agent_stats.h"

#include <boost/filesystem.hpp>
#include <cmath>
#include <limits>

#include "shared/atomic_file.h"
#include "shared/formats/agent_id.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"

namespace cloudbook {

namespace {

template <typename T>
Json OrNull(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

// Sets `out` from section[key] when present and not null; a wrong type is an error.
template <typename T>
Status Read(const Json& section, const char* section_name, const char* key, std::optional<T>* out) {
  const auto found = section.find(key);
  if (found == section.end() || found->is_null()) return Status::Ok();
  const bool ok = std::is_integral<T>::value ? found->is_number_integer() : found->is_number();
  if (!ok) {
    return Status::Corruption(std::string("'") + section_name + "." + key + "' must be " +
                              (std::is_integral<T>::value ? "an integer" : "a number"));
  }
  *out = found->get<T>();
  return Status::Ok();
}

// The object at json[name], or an empty object when absent or null.
Result<Json> Section(const Json& json, const char* name) {
  const auto found = json.find(name);
  if (found == json.end() || found->is_null()) return Json::object();
  if (!found->is_object())
    return Status::Corruption(std::string("'") + name + "' must be an object");
  return *found;
}

Status ReadDus(const Json& json, std::vector<DuProgress>* dus) {
  const auto found = json.find("dus");
  if (found == json.end() || found->is_null()) return Status::Ok();
  if (!found->is_array()) return Status::Corruption("'dus' must be an array");
  for (const Json& entry : *found) {
    if (!entry.is_object() || !entry.contains("du") || !entry["du"].is_number_integer()) {
      return Status::Corruption("'dus' entries need an integer 'du'");
    }
    DuProgress du;
    du.du = entry["du"].get<int>();
    if (entry.contains("epoch") && entry["epoch"].is_number_integer()) du.epoch = entry["epoch"];
    du.loss = entry.contains("loss") && entry["loss"].is_number()
                  ? entry["loss"].get<double>()
                  : std::numeric_limits<double>::quiet_NaN();
    if (entry.contains("samples_per_second") && entry["samples_per_second"].is_number()) {
      du.samples_per_second = entry["samples_per_second"];
    }
    dus->push_back(du);
  }
  return Status::Ok();
}

Status ReadPeers(const Json& json, std::map<std::string, PeerHeard>* peers) {
  const auto found = json.find("peers");
  if (found == json.end() || found->is_null()) return Status::Ok();
  if (!found->is_object()) return Status::Corruption("'peers' must be an object");
  for (const auto& [peer, heard] : found->items()) {
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
    if (last != heard.end() && last->is_number_integer()) entry.last_heard_ms = *last;
    (*peers)[peer] = entry;
  }
  return Status::Ok();
}

}  // namespace

Json ToJson(const AgentStats& stats) {
  Json peers = Json::object();
  for (const auto& [id, heard] : stats.peers) {
    peers[id] = {{"alive", heard.alive},
                 {"last_heard_ms", heard.last_heard_ms != 0 ? Json(heard.last_heard_ms) : Json()}};
  }
  Json dus = Json::array();
  for (const DuProgress& du : stats.dus) {
    dus.push_back({{"du", du.du},
                   {"epoch", du.epoch},
                   {"loss", std::isfinite(du.loss) ? Json(du.loss) : Json(nullptr)},
                   {"samples_per_second", du.samples_per_second}});
  }
  Json json = {{"format_version", kStatsFormatVersion},
               {"id", stats.id},
               {"time", stats.time_ms},
               {"interval_s", stats.interval_s},
               {"process",
                {{"cpu_percent", OrNull(stats.process_cpu_percent)},
                 {"rss_bytes", OrNull(stats.process_rss_bytes)}}},
               {"machine",
                {{"cpu_percent", OrNull(stats.machine_cpu_percent)},
                 {"memory_total_bytes", OrNull(stats.memory_total_bytes)},
                 {"memory_available_bytes", OrNull(stats.memory_available_bytes)}}},
               {"network",
                {{"rx_bytes", OrNull(stats.rx_bytes)},
                 {"tx_bytes", OrNull(stats.tx_bytes)},
                 {"loopback_rx_bytes", OrNull(stats.loopback_rx_bytes)},
                 {"loopback_tx_bytes", OrNull(stats.loopback_tx_bytes)}}},
               {"dus", dus},
               {"peers", peers}};
  if (stats.gpu_utilization_percent) {
    json["gpu"] = {{"utilization_percent", *stats.gpu_utilization_percent}};
  }
  return json;
}

Result<AgentStats> ParseAgentStats(const std::string& text, const std::string& source,
                                   const std::string& expected_id) {
  CB_ASSIGN_OR_RETURN(Json json, ParseJsonText(text, source));
  if (!json.is_object()) return Status::Corruption("not a JSON object");
  const auto id = json.find("id");
  if (id == json.end() || !id->is_string() || id->get<std::string>() != expected_id) {
    return Status::Corruption("'id' is not the file's name");
  }
  const auto time = json.find("time");
  if (time == json.end() || !time->is_number_integer()) {
    return Status::Corruption("no integer 'time'");
  }
  AgentStats stats;
  stats.id = expected_id;
  stats.time_ms = time->get<int64_t>();
  if (json.contains("interval_s") && json["interval_s"].is_number()) {
    stats.interval_s = json["interval_s"];
  }
  CB_ASSIGN_OR_RETURN(Json process, Section(json, "process"));
  CB_RETURN_IF_ERROR(Read(process, "process", "cpu_percent", &stats.process_cpu_percent));
  CB_RETURN_IF_ERROR(Read(process, "process", "rss_bytes", &stats.process_rss_bytes));
  CB_ASSIGN_OR_RETURN(Json machine, Section(json, "machine"));
  CB_RETURN_IF_ERROR(Read(machine, "machine", "cpu_percent", &stats.machine_cpu_percent));
  CB_RETURN_IF_ERROR(Read(machine, "machine", "memory_total_bytes", &stats.memory_total_bytes));
  CB_RETURN_IF_ERROR(
      Read(machine, "machine", "memory_available_bytes", &stats.memory_available_bytes));
  CB_ASSIGN_OR_RETURN(Json network, Section(json, "network"));
  CB_RETURN_IF_ERROR(Read(network, "network", "rx_bytes", &stats.rx_bytes));
  CB_RETURN_IF_ERROR(Read(network, "network", "tx_bytes", &stats.tx_bytes));
  CB_RETURN_IF_ERROR(Read(network, "network", "loopback_rx_bytes", &stats.loopback_rx_bytes));
  CB_RETURN_IF_ERROR(Read(network, "network", "loopback_tx_bytes", &stats.loopback_tx_bytes));
  CB_ASSIGN_OR_RETURN(Json gpu, Section(json, "gpu"));
  CB_RETURN_IF_ERROR(Read(gpu, "gpu", "utilization_percent", &stats.gpu_utilization_percent));
  CB_RETURN_IF_ERROR(ReadDus(json, &stats.dus));
  CB_RETURN_IF_ERROR(ReadPeers(json, &stats.peers));
  return stats;
}

AgentStatsScan ReadAgentStats(const std::string& shared_folder) {
  namespace fs = boost::filesystem;
  AgentStatsScan scan;
  const std::string folder = SharedFolderLayout(shared_folder).stats();
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
    auto stats = ParseAgentStats(*text, path, id);
    if (!stats.ok()) {
      scan.ignored.push_back({path, stats.status().message()});
      continue;
    }
    scan.valid[id] = std::move(*stats);
  }
  return scan;
}

}  // namespace cloudbook
