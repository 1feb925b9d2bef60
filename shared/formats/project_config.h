// distributed/config.json: project settings shared by every component, one line each with
// its default. The maker writes the file when absent; later components only read it.
#pragma once

#include <string>

#include "shared/json_io.h"
#include "shared/status.h"

namespace cloudbook {

struct ProjectConfig {
  int desired_dus = 0;              // 0: one deployable unit per subnet
  double announce_interval_s = 5;   // agents rewrite their announcement this often
  double stats_interval_s = 2;      // agents rewrite their stats this often
  double heartbeat_interval_s = 1;  // ZeroMQ ping between peers
  double liveness_timeout_s = 15;   // no announcement and no heartbeat this long: lost
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
