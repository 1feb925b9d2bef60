// distributed/config.json: project settings shared by every component, one line each with
// its default. The maker writes the file when absent; later components only read it.
#pragma once

#include <string>

#include "shared/json_io.h"
#include "shared/status.h"
#include "shared/tunables.h"

namespace cloudbook {

struct ProjectConfig {
  int desired_dus = 0;  // 0: one deployable unit per subnet
  // The defaults are in shared/tunables_def.h (5, 2, 1 and 15 s).
  double announce_interval_s = tunables_default::announce_interval_s;    // announcement rewrite
  double stats_interval_s = tunables_default::stats_interval_s;          // stats rewrite
  double heartbeat_interval_s = tunables_default::heartbeat_interval_s;  // ZeroMQ ping period
  // No announcement and no heartbeat this long: lost.
  double liveness_timeout_s = tunables_default::liveness_timeout_s;
};

Json ToJson(const ProjectConfig& config);
// Missing keys take their defaults; wrong types or ranges are an error naming the key.
Result<ProjectConfig> ProjectConfigFromJson(const Json& json, const std::string& source);
Result<ProjectConfig> ReadProjectConfig(const std::string& path);
// The file, or the defaults when the maker has not written it yet.
Result<ProjectConfig> LoadProjectConfigOrDefaults(const std::string& path);
// Writes the defaults when the file is absent; returns what is in effect.
Result<ProjectConfig> EnsureProjectConfig(const std::string& path, bool* created = nullptr);

}  // namespace cloudbook
