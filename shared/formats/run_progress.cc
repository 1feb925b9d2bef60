#include "shared/formats/run_progress.h"

#include <spdlog/spdlog.h>

#include "shared/atomic_file.h"
#include "shared/shared_files.h"

namespace cloudbook {

namespace {

template <typename T>
void Take(const Json& json, const char* key, T* out) {
  const auto found = json.find(key);
  if (found == json.end()) return;
  if constexpr (std::is_same<T, std::string>::value) {
    if (found->is_string()) *out = found->get<std::string>();
  } else if constexpr (std::is_integral<T>::value) {
    if (found->is_number_integer()) *out = found->get<T>();
  } else {
    if (found->is_number()) *out = found->get<T>();
  }
}

Json Part(const Json& json, const char* key, bool array) {
  const auto found = json.find(key);
  if (found == json.end()) return array ? Json::array() : Json();
  if (array && !found->is_array()) return Json::array();
  return *found;
}

}  // namespace

Json ToJson(const RunProgress& progress) {
  return {{"format_version", kRunProgressFormatVersion},
          {"run", progress.run},
          {"state", progress.state},
          {"agent_0", {{"host", progress.agent_0_host}, {"pid", progress.agent_0_pid}}},
          {"started", progress.started_ms},
          {"updated", progress.updated_ms},
          {"elapsed_seconds", progress.elapsed_seconds},
          {"project", progress.project},
          {"dus_count", progress.dus_count},
          {"dus", progress.dus},
          {"subnets", progress.subnets},
          {"baseline_progress", progress.baseline_progress},
          {"notes", progress.notes},
          {"composed", progress.composed},
          {"baseline", progress.baseline},
          {"error", progress.error.empty() ? Json() : Json(progress.error)}};
}

Result<RunProgress> RunProgressFromJson(const Json& json) {
  if (!json.is_object()) return Status::Corruption("not a JSON object");
  RunProgress progress;
  Take(json, "run", &progress.run);
  Take(json, "state", &progress.state);
  if (json.contains("agent_0") && json["agent_0"].is_object()) {
    Take(json["agent_0"], "host", &progress.agent_0_host);
    Take(json["agent_0"], "pid", &progress.agent_0_pid);
  }
  Take(json, "started", &progress.started_ms);
  Take(json, "updated", &progress.updated_ms);
  Take(json, "elapsed_seconds", &progress.elapsed_seconds);
  Take(json, "project", &progress.project);
  Take(json, "dus_count", &progress.dus_count);
  Take(json, "error", &progress.error);
  progress.composed = Part(json, "composed", false);
  progress.baseline = Part(json, "baseline", false);
  progress.dus = Part(json, "dus", true);
  progress.subnets = Part(json, "subnets", true);
  progress.baseline_progress = Part(json, "baseline_progress", false);
  progress.notes = Part(json, "notes", true);
  return progress;
}

std::vector<std::string> MarkAbandonedRuns(const std::string& runs_folder) {
  std::vector<std::string> marked;
  const Result<std::vector<std::string>> names = ListFolder(runs_folder);
  if (!names.ok()) return marked;  // no runs yet
  for (const std::string& name : *names) {
    if (name.empty() || name[0] == '.' || name.size() < 6 ||
        name.compare(name.size() - 5, 5, ".json") != 0) {
      continue;
    }
    const std::string path = runs_folder + "/" + name;
    Result<Json> document = ReadJsonFile(path);
    if (!document.ok() || !document->is_object() ||
        document->value("state", std::string()) != "running") {
      continue;
    }
    (*document)["state"] = "failed";
    (*document)["error"] = kAbandonedRunError;
    const Status written = WriteJsonFileAtomically(path, *document);
    if (!written.ok()) {
      spdlog::warn("cannot mark the abandoned run {} as failed: {}", path, written.ToString());
      continue;
    }
    marked.push_back(name.substr(0, name.size() - 5));
    spdlog::warn("run {} was still 'running' when this agent 0 started: marked failed ({})",
                 marked.back(), kAbandonedRunError);
  }
  return marked;
}

}  // namespace cloudbook
