#include "agent/core/agent_paths.h"

#include "shared/project_layout.h"

namespace cloudbook {

std::string LocalAgentsFolder(const std::string& project_folder) {
  return ProjectLayout(project_folder).agents_local();
}

std::string LocalConfigPath(const std::string& project_folder, const std::string& id) {
  return LocalAgentsFolder(project_folder) + "/" + id + ".json";
}

std::string PidFilePath(const std::string& project_folder, const std::string& id) {
  return LocalAgentsFolder(project_folder) + "/" + id + ".pid";
}

std::string DefaultDistributedFolder(const std::string& project_folder) {
  // P/project.json may put the shared folder elsewhere; a bad one is reported by whoever
  // uses the folder, so fall back to P/distributed here.
  auto layout = OpenProjectLayout(project_folder);
  return layout.ok() ? layout->distributed() : ProjectLayout(project_folder).distributed();
}

std::string AnnouncementsFolder(const std::string& distributed_folder) {
  return distributed_folder + "/agents";
}

std::string AnnouncementPath(const std::string& distributed_folder, const std::string& id) {
  return AnnouncementsFolder(distributed_folder) + "/" + id + ".json";
}

std::string StatsFolder(const std::string& distributed_folder) {
  return distributed_folder + "/stats";
}

std::string StatsPath(const std::string& distributed_folder, const std::string& id) {
  return StatsFolder(distributed_folder) + "/" + id + ".json";
}

std::string ProjectConfigPath(const std::string& distributed_folder) {
  return distributed_folder + "/config.json";
}

}  // namespace cloudbook
