// The projects one dashboard serves: the one of --project-folder, and with --home every
// project folder in that cloudbook home (a folder holding original/, distributed/, agents/
// or project.json), found again at every listing so new projects appear. A project is
// opened (its shared folder mounted, its watcher started) the first time it is asked for,
// then watched until the dashboard stops.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "dashboard/agent_actions.h"
#include "dashboard/dashboard_registry.h"
#include "dashboard/model_panel.h"
#include "dashboard/project_watcher.h"
#include "shared/json_io.h"
#include "shared/status.h"
#include "shared/tunables.h"

namespace cloudbook {

struct ServedProject {
  std::string name;
  std::string folder;
  std::unique_ptr<ProjectWatcher> watcher;
  std::unique_ptr<AgentActions> actions;
  std::unique_ptr<ModelPanel> models;
};

struct ProjectDirectoryOptions {
  std::string home;                    // "" = only the default project
  std::string default_folder;          // "" = the first project of home
  std::string shared_folder_override;  // the default project's --distributed-folder
  double refresh_s = GetTunables().dashboard_refresh_s;
  std::string agent_program;
  DashboardEntry self;  // this dashboard as announced (host, url, token_required, pid)
};

class ProjectDirectory {
 public:
  explicit ProjectDirectory(ProjectDirectoryOptions options);
  ~ProjectDirectory();  // StopAll()

  // The project called `name` ("" = the default one), opened on first use. NotFound for an
  // unknown name, InvalidArgument for a malformed one; a shared folder that cannot be
  // mounted gives its error (and is tried again next time).
  Result<ServedProject*> Open(const std::string& name);
  // [{"name", "folder", "default", "open"}], the default project first, then by name.
  Json List();
  const std::string& default_name() const { return default_name_; }
  void StopAll();

 private:
  // name -> folder of every project served now.
  std::map<std::string, std::string> Scan() const;

  ProjectDirectoryOptions options_;
  std::string default_name_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<ServedProject>> open_;
};

// Whether `folder` looks like a cloudbook project folder.
bool IsProjectFolder(const std::string& folder);

}  // namespace cloudbook
