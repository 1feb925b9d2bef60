// Where an agent's files live. Local (this machine only): P/agents/<id>.json (config, 0600)
// and P/agents/<id>.pid (lock + pid while launched). Shared (the distributed folder, by default
// P/distributed): agents/<id>.json (announcement), stats/<id>.json, config.json.
#pragma once

#include <string>

namespace cloudbook {

std::string LocalAgentsFolder(const std::string& project_folder);
std::string LocalConfigPath(const std::string& project_folder, const std::string& id);
std::string PidFilePath(const std::string& project_folder, const std::string& id);
std::string DefaultDistributedFolder(const std::string& project_folder);

std::string AnnouncementsFolder(const std::string& distributed_folder);
std::string AnnouncementPath(const std::string& distributed_folder, const std::string& id);
std::string StatsFolder(const std::string& distributed_folder);
// Exactly <id>.json: the dashboard reads this name (the original's mismatch showed zeros).
std::string StatsPath(const std::string& distributed_folder, const std::string& id);
std::string ProjectConfigPath(const std::string& distributed_folder);

}  // namespace cloudbook
