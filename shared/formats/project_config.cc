#include "shared/formats/project_config.h"

#include "shared/atomic_file.h"

namespace cloudbook {

namespace {

Status ReadPositive(const Json& json, const char* key, double& value, const std::string& source) {
  if (!json.contains(key)) return Status::Ok();
  if (!json[key].is_number() || json[key].get<double>() <= 0) {
    return Status::InvalidArgument(source + ": " + key + " must be a positive number of seconds");
  }
  value = json[key].get<double>();
  return Status::Ok();
}

}  // namespace

Json ToJson(const ProjectConfig& config) {
  return {{"format_version", 1},
          {"desired_dus", config.desired_dus},
          {"announce_interval_s", config.announce_interval_s},
          {"stats_interval_s", config.stats_interval_s},
          {"heartbeat_interval_s", config.heartbeat_interval_s},
          {"liveness_timeout_s", config.liveness_timeout_s}};
}

Result<ProjectConfig> ProjectConfigFromJson(const Json& json, const std::string& source) {
  if (!json.is_object()) return Status::InvalidArgument(source + ": must be a JSON object");
  ProjectConfig config;
  if (json.contains("desired_dus")) {
    if (!json["desired_dus"].is_number_integer() || json["desired_dus"].get<int64_t>() < 0 ||
        json["desired_dus"].get<int64_t>() > 100000) {
      return Status::InvalidArgument(source +
                                     ": desired_dus must be an integer >= 0 (0 = one per subnet)");
    }
    config.desired_dus = json["desired_dus"].get<int>();
  }
  CB_RETURN_IF_ERROR(ReadPositive(json, "announce_interval_s", config.announce_interval_s, source));
  CB_RETURN_IF_ERROR(ReadPositive(json, "stats_interval_s", config.stats_interval_s, source));
  CB_RETURN_IF_ERROR(
      ReadPositive(json, "heartbeat_interval_s", config.heartbeat_interval_s, source));
  CB_RETURN_IF_ERROR(ReadPositive(json, "liveness_timeout_s", config.liveness_timeout_s, source));
  return config;
}

Result<ProjectConfig> ReadProjectConfig(const std::string& path) {
  CB_ASSIGN_OR_RETURN(Json json, ReadJsonFile(path));
  return ProjectConfigFromJson(json, path);
}

Result<ProjectConfig> LoadProjectConfigOrDefaults(const std::string& path) {
  if (!FileExists(path)) return ProjectConfig();
  return ReadProjectConfig(path);
}

Result<ProjectConfig> EnsureProjectConfig(const std::string& path, bool* created) {
  if (created) *created = false;
  if (FileExists(path)) return ReadProjectConfig(path);
  ProjectConfig defaults;
  CB_RETURN_IF_ERROR(WriteJsonFileAtomically(path, ToJson(defaults)));
  if (created) *created = true;
  return defaults;
}

}  // namespace cloudbook
