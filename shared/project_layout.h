// Where things live in a project folder (docs/project-layout.md). The one place that knows
// folder and file names, so no component spells a path by hand. The shared ("distributed")
// folder is P/distributed unless the project puts it elsewhere: another local path, or a
// remote location (nfs://..., an rclone remote, sync://...; docs/shared-folder.md). Paths
// under a remote location are strings the file functions of shared/atomic_file.h and
// shared/shared_files.h route to its back end.
#pragma once

#include <string>

#include "shared/status.h"

namespace cloudbook {

class ProjectLayout {
 public:
  // The shared folder at P/distributed.
  explicit ProjectLayout(std::string project_folder);
  ProjectLayout(std::string project_folder, std::string distributed_folder);

  const std::string& root() const { return root_; }
  std::string original() const { return root_ + "/original"; }
  std::string agents_local() const { return root_ + "/agents"; }
  // This machine's dashboard files (its token): P/dashboard/, apart from the agent configs.
  std::string dashboard_local() const { return root_ + "/dashboard"; }
  std::string dashboard_token_file() const { return dashboard_local() + "/token.json"; }
  // Where dashboards before issue 15 kept the token (among the agent configs); moved on start.
  std::string legacy_dashboard_token_file() const { return agents_local() + "/dashboard.json"; }
  // This machine's project settings (where the shared folder is): P/project.json.
  std::string settings_file() const { return root_ + "/project.json"; }
  // This machine's copies of data read from a remote shared folder.
  std::string local_cache() const { return root_ + "/cache"; }
  const std::string& distributed() const { return distributed_; }
  std::string config_file() const { return distributed() + "/config.json"; }
  std::string du_files() const { return distributed() + "/du_files"; }
  std::string du_file(int du_index) const;
  std::string du_list_file() const { return distributed() + "/du_list.json"; }
  std::string announcements() const { return distributed() + "/agents"; }
  std::string assignment_file() const { return distributed() + "/assignment.json"; }
  // Which deployer holds the project (shared/deployer_lease.h).
  std::string deployer_lease_file() const { return distributed() + "/deployer.json"; }
  std::string stats() const { return distributed() + "/stats"; }
  std::string checkpoints() const { return distributed() + "/checkpoints"; }
  std::string results() const { return distributed() + "/results"; }
  // Live progress of the runs in progress (agent 0 writes distributed/runs/<run>.json).
  std::string runs() const { return distributed() + "/runs"; }
  // Each machine's dashboard service announces its address here (distributed/dashboards/).
  std::string dashboards() const { return distributed() + "/dashboards"; }
  std::string working_dir() const { return distributed() + "/working_dir"; }

 private:
  std::string root_;
  std::string distributed_;
};

// The layout of the project in `project_folder`, its shared folder mounted: at
// `distributed_override` when not empty (a command's --distributed-folder), else where the
// "distributed_folder" setting of P/project.json says, else at P/distributed.
Result<ProjectLayout> OpenProjectLayout(const std::string& project_folder,
                                        const std::string& distributed_override = "");

// Records in P/project.json where the project's shared folder is (kept for later commands).
Status WriteProjectSettings(const ProjectLayout& layout);

// The default home of projects: $CLOUDBOOK_HOME, else ~/cloudbook.
std::string DefaultCloudbookHome();

}  // namespace cloudbook
