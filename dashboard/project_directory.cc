#include "dashboard/project_directory.h"

#include <spdlog/spdlog.h>

#include <boost/filesystem.hpp>

#include "shared/formats/agent_id.h"
#include "shared/project_layout.h"

namespace cloudbook {
namespace fs = boost::filesystem;

bool IsProjectFolder(const std::string& folder) {
  boost::system::error_code error;
  for (const char* part : {"original", "distributed", "agents", "project.json"}) {
    if (fs::exists(fs::path(folder) / part, error)) return true;
  }
  return false;
}

ProjectDirectory::ProjectDirectory(ProjectDirectoryOptions options) : options_(std::move(options)) {
  if (!options_.default_folder.empty()) {
    default_name_ = fs::path(options_.default_folder).filename().string();
  } else {
    const auto projects = Scan();
    if (!projects.empty()) default_name_ = projects.begin()->first;
  }
}

ProjectDirectory::~ProjectDirectory() { StopAll(); }

std::map<std::string, std::string> ProjectDirectory::Scan() const {
  std::map<std::string, std::string> projects;
  boost::system::error_code error;
  if (!options_.home.empty() && fs::is_directory(options_.home, error)) {
    for (fs::directory_iterator it(options_.home, error), end; !error && it != end;
         it.increment(error)) {
      const std::string name = it->path().filename().string();
      // Project names travel in URLs and file names: the id rules keep them plain.
      if (!ValidateAgentId(name).ok() || !fs::is_directory(it->path(), error)) continue;
      if (IsProjectFolder(it->path().string())) projects[name] = it->path().string();
    }
  }
  if (!options_.default_folder.empty()) projects[default_name_] = options_.default_folder;
  return projects;
}

Result<ServedProject*> ProjectDirectory::Open(const std::string& requested) {
  const std::string name = requested.empty() ? default_name_ : requested;
  if (name.empty()) return Status::NotFound("no project here yet: make one with cloudbook-maker");
  if (!ValidateAgentId(name).ok()) {
    return Status::InvalidArgument("'" + name + "' is not a project name");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto open = open_.find(name);
  if (open != open_.end()) return open->second.get();
  const auto projects = Scan();
  auto found = projects.find(name);
  if (found == projects.end()) return Status::NotFound("no project " + name);
  const bool is_default = name == default_name_;
  CB_ASSIGN_OR_RETURN(
      ProjectLayout layout,
      OpenProjectLayout(found->second, is_default ? options_.shared_folder_override : ""));
  auto project = std::make_unique<ServedProject>();
  project->name = name;
  project->folder = found->second;
  DashboardEntry self = options_.self;
  self.project = name;
  project->watcher = std::make_unique<ProjectWatcher>(layout, options_.refresh_s, self);
  project->actions = std::make_unique<AgentActions>(found->second, options_.agent_program);
  project->models = std::make_unique<ModelPanel>(layout, found->second);
  project->watcher->Start();
  spdlog::info("watching project {} ({})", name, layout.shared_folder());
  ServedProject* served = project.get();
  open_[name] = std::move(project);
  return served;
}

Json ProjectDirectory::List() {
  const auto projects = Scan();
  Json list = Json::array();
  std::lock_guard<std::mutex> lock(mutex_);
  auto entry = [&](const std::string& name, const std::string& folder) {
    return Json({{"name", name},
                 {"folder", folder},
                 {"default", name == default_name_},
                 {"open", open_.count(name) > 0}});
  };
  auto the_default = projects.find(default_name_);
  if (the_default != projects.end()) list.push_back(entry(default_name_, the_default->second));
  for (const auto& [name, folder] : projects) {
    if (name != default_name_) list.push_back(entry(name, folder));
  }
  return list;
}

void ProjectDirectory::StopAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [name, project] : open_) project->watcher->Stop();
}

}  // namespace cloudbook
