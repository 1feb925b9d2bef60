#include "dashboard/run_catalog.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <vector>

#include "shared/atomic_file.h"
#include "shared/clock.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/run_progress.h"
#include "shared/printable.h"
#include "shared/shared_files.h"
#include "shared/shared_folder_names.h"
#include "shared/tunables.h"

namespace cloudbook {
namespace {

const Json kNull = nullptr;

// Run names of the *.json files in `folder` (none when it is absent).
std::vector<std::string> RunNamesIn(const std::string& folder) {
  std::vector<std::string> names;
  Result<std::vector<std::string>> entries = ListFolder(folder);
  if (!entries.ok()) return names;
  for (const std::string& entry : *entries) {
    const std::string suffix = ".json";
    if (entry.size() <= suffix.size() || entry.compare(entry.size() - 5, 5, suffix) != 0) continue;
    const std::string run = entry.substr(0, entry.size() - suffix.size());
    if (ValidateAgentId(run).ok()) names.push_back(run);  // run names follow the id rules
  }
  return names;
}

Json MetricsOf(const Json& section) {
  if (section.is_object() && section.contains("metrics")) return section["metrics"];
  return nullptr;
}

// The detail view of a finished run, from its results file.
Json DetailFromResults(const Json& results) {
  Json dus = Json::array();
  for (const Json& du : results.value("dus", Json::array())) {
    if (!du.is_object()) continue;
    dus.push_back({{"du", ValueOr(du, "du", -1)},
                   {"agent", ValueOr(du, "ran_on", std::string())},
                   {"state", "trained"},
                   {"train_seconds", ValueOr(du, "train_seconds", 0.0)}});
  }
  Json subnets = Json::array();
  for (const Json& subnet : results.value("subnets", Json::array())) {
    if (!subnet.is_object()) continue;
    subnets.push_back({{"subnet", ValueOr(subnet, "index", -1)},
                       {"du", ValueOr(subnet, "du", -1)},
                       {"epochs", ValueOr(subnet, "epochs", 0)},
                       {"history", subnet.value("history", Json::array())},
                       {"test_metrics", subnet.value("test_metrics", Json())}});
  }
  for (Json& du : dus) {  // a finished DU ran every epoch of its subnets
    int64_t epochs = 0;
    for (const Json& subnet : subnets) {
      if (subnet["du"] == du["du"])
        epochs = std::max(epochs, ValueOr(subnet, "epochs", int64_t{0}));
    }
    du["epochs"] = epochs;
    du["epoch"] = epochs;
  }
  return {{"dus", dus}, {"subnets", subnets}};
}

}  // namespace

int64_t ParseCompactUtc(const std::string& text) {
  std::tm utc{};
  const char* end = strptime(text.c_str(), "%Y%m%dT%H%M%SZ", &utc);
  if (end == nullptr || *end != '\0') return 0;
  return static_cast<int64_t>(timegm(&utc)) * 1000;
}

RunCatalog::RunCatalog(ProjectLayout layout) : layout_(std::move(layout)) {}

const Json& RunCatalog::Load(const std::string& path) {
  Result<SharedFileInfo> info = StatPath(path);
  if (!info.ok() || !info->exists) {
    files_.erase(path);
    return kNull;
  }
  CachedFile& cached = files_[path];
  if (cached.size == info->size && cached.modified_ns == info->modified_unix_ns &&
      cached.modified_ns != 0) {
    return cached.document;
  }
  cached.size = info->size;
  cached.modified_ns = info->modified_unix_ns;
  cached.document = nullptr;
  Result<std::string> text = ReadRegularFileBounded(path, kMaxRunFileBytes);
  Result<Json> document = text.ok() ? ParseJsonText(*text, path) : Result<Json>(text.status());
  if (document.ok() && document->is_object()) {
    cached.document = std::move(*document);
    reported_.erase(path);
  } else if (reported_.insert(path).second) {
    spdlog::warn("ignoring {}: {}", Printable(path),
                 Printable(document.ok() ? "not a JSON object" : document.status().ToString()));
  }
  return cached.document;
}

bool RunCatalog::StillWritten(const std::string& run, int64_t updated, int64_t steady_ms) {
  auto found = heard_.find(run);
  if (found == heard_.end() || found->second.updated != updated) {
    heard_[run] = {updated, steady_ms};  // first sight counts: the limit starts now
    return true;
  }
  return steady_ms - found->second.steady_ms <= GetTunables().run_stalled_after_ms.count();
}

Json RunCatalog::Summary(const std::string& run, const Json& progress, const Json& results,
                         int64_t steady_ms) {
  Json summary = {{"run", run},          {"state", "running"},         {"started", nullptr},
                  {"updated", nullptr},  {"elapsed_seconds", nullptr}, {"dus", nullptr},
                  {"composed", nullptr}, {"baseline", nullptr},        {"project", nullptr},
                  {"error", nullptr}};
  if (Result<RunProgress> recorded = RunProgressFromJson(progress); recorded.ok()) {
    summary["state"] = recorded->state;
    summary["started"] = recorded->started_ms > 0 ? Json(recorded->started_ms) : Json();
    summary["updated"] = recorded->updated_ms > 0 ? Json(recorded->updated_ms) : Json();
    summary["elapsed_seconds"] = recorded->elapsed_seconds;
    summary["dus"] = recorded->dus_count;
    summary["project"] = recorded->project;
    summary["error"] = recorded->error.empty() ? Json() : Json(recorded->error);
    summary["composed"] = recorded->composed;
    summary["baseline"] = recorded->baseline;
    if (recorded->state == "running" && !StillWritten(run, recorded->updated_ms, steady_ms)) {
      summary["state"] = "stalled";
    }
  }
  if (results.is_object()) {  // a results file is the final word
    summary["state"] = "done";
    summary["error"] = nullptr;
    const int64_t started = ParseCompactUtc(ValueOr(results, "started", std::string()));
    if (started > 0) summary["started"] = started;
    summary["elapsed_seconds"] = results.value("wall_seconds", Json());
    summary["dus"] =
        results.contains("dus") && results["dus"].is_array() ? Json(results["dus"].size()) : Json();
    summary["project"] = results.value("project", Json());
    summary["composed"] = MetricsOf(results.value("composed", Json()));
    summary["baseline"] = MetricsOf(results.value("baseline", Json()));
    summary["mode"] = results.value("mode", Json());
  }
  return summary;
}

Json RunCatalog::List(int64_t steady_ms) {
  std::set<std::string> runs;
  for (const std::string& run : RunNamesIn(layout_.runs())) runs.insert(run);
  for (const std::string& run : RunNamesIn(layout_.results())) runs.insert(run);
  std::vector<Json> summaries;
  for (const std::string& run : runs) {
    const Json& progress = Load(layout_.shared().run_progress_file(run));
    const Json& results = Load(layout_.shared().results_file(run));
    if (progress.is_null() && results.is_null()) continue;
    summaries.push_back(Summary(run, progress, results, steady_ms));
  }
  std::sort(summaries.begin(), summaries.end(), [](const Json& a, const Json& b) {
    const int64_t a_started = a["started"].is_number() ? a["started"].get<int64_t>() : 0;
    const int64_t b_started = b["started"].is_number() ? b["started"].get<int64_t>() : 0;
    if (a_started != b_started) return a_started > b_started;
    return a["run"].get<std::string>() > b["run"].get<std::string>();
  });
  return Json(summaries);
}

Result<Json> RunCatalog::Detail(const std::string& run, int64_t steady_ms) {
  if (!ValidateAgentId(run).ok()) {
    return Status::InvalidArgument("'" + run + "' is not a run name");
  }
  const Json& progress = Load(layout_.shared().run_progress_file(run));
  const Json& results = Load(layout_.shared().results_file(run));
  if (progress.is_null() && results.is_null()) return Status::NotFound("no run " + run);
  Json detail = Summary(run, progress, results, steady_ms);
  detail["notes"] = Json::array();
  detail["baseline_progress"] = nullptr;
  detail["results"] = nullptr;
  if (Result<RunProgress> recorded = RunProgressFromJson(progress); recorded.ok()) {
    detail["dus"] = recorded->dus;
    detail["subnets"] = recorded->subnets;
    detail["notes"] = recorded->notes;
    detail["baseline_progress"] = recorded->baseline_progress;
  }
  if (results.is_object()) {
    Json finished = DetailFromResults(results);
    // The progress file knows how many subnets each DU had.
    for (Json& du : finished["dus"]) {
      for (const Json& live : detail["dus"].is_array() ? detail["dus"] : Json::array()) {
        if (!live.is_object() || ValueOr(live, "du", -2) != du["du"]) continue;
        du["subnets"] = live.value("subnets", Json());
      }
    }
    detail["dus"] = finished["dus"];
    detail["subnets"] = finished["subnets"];
    detail["results"] = results;
  }
  return detail;
}

}  // namespace cloudbook
