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

// Names inside the shared folder, for code that holds only its location (an agent's config
// names it; the deployer and agent 0 are given it). Distributed (shared-folder) side only.
class SharedFolderLayout {
 public:
  explicit SharedFolderLayout(std::string shared_folder);

  const std::string& root() const { return root_; }
  std::string config_file() const { return root_ + "/config.json"; }
  std::string du_files() const { return root_ + "/du_files"; }
  std::string du_file(int du_index) const;
  std::string du_list_file() const { return root_ + "/du_list.json"; }
  // Agents' announcements: agents/<id>.json (shared/formats/announcement.h).
  std::string announcements() const { return root_ + "/agents"; }
  std::string announcement_file(const std::string& agent_id) const;
  std::string assignment_file() const { return root_ + "/assignment.json"; }
  // Which deployer holds the project (shared/formats/deployer_lease.h).
  std::string deployer_lease_file() const { return root_ + "/deployer.json"; }
  // Agents' stats: stats/<id>.json, exactly (the original's name mismatch showed zeros).
  std::string stats() const { return root_ + "/stats"; }
  std::string stats_file(const std::string& agent_id) const;
  // One folder per DU: checkpoints/du_<i>/ (its subnets' files: shared/nn/checkpoint.h).
  std::string checkpoints() const { return root_ + "/checkpoints"; }
  std::string du_checkpoints(int du_index) const;
  std::string subnet_checkpoint_file(int du_index, int subnet_index) const;
  // What a finished run composed: results/<run>.json.
  std::string results() const { return root_ + "/results"; }
  std::string results_file(const std::string& run) const;
  // A finished run's model (shared/formats/run_model.h): models/<run>/model.json and its
  // subnets' weights models/<run>/subnet_<i>.pt (checkpoint files, shared/nn/checkpoint.h).
  std::string models() const { return root_ + "/models"; }
  std::string model_folder(const std::string& run) const;
  std::string model_file(const std::string& run) const { return model_folder(run) + "/model.json"; }
  // Live progress of the runs in progress (agent 0 writes runs/<run>.json).
  std::string runs() const { return root_ + "/runs"; }
  std::string run_progress_file(const std::string& run) const;
  // Each machine's dashboard service announces its address here: dashboards/<host>.json.
  std::string dashboards() const { return root_ + "/dashboards"; }
  std::string dashboard_file(const std::string& host) const;
  // Running model servers announce themselves here (shared/formats/serve_endpoint.h):
  // serve/<host>-<port>.json.
  std::string serve_endpoints() const { return root_ + "/serve"; }
  std::string serve_endpoint_file(const std::string& host, int port) const;
  std::string working_dir() const { return root_ + "/working_dir"; }

 private:
  std::string root_;
};

// A project folder P: this machine's files, and where its shared folder is.
class ProjectLayout {
 public:
  // The shared folder at P/distributed.
  explicit ProjectLayout(std::string project_folder);
  ProjectLayout(std::string project_folder, std::string shared_folder);

  const std::string& root() const { return root_; }
  std::string original() const { return root_ + "/original"; }
  // This machine's agents: configs P/agents/<id>.json (0600, secret keys) and, while an
  // agent is launched, its lock and pid P/agents/<id>.pid.
  std::string agents_local() const { return root_ + "/agents"; }
  std::string agent_config_file(const std::string& agent_id) const;
  std::string agent_pid_file(const std::string& agent_id) const;
  // A launched agent's control channel (agent/core/control_channel.h), the log the dashboard
  // launches it with, and the pid file of the cloudbook-run driving agent 0.
  std::string agent_control_file(const std::string& agent_id) const;
  std::string agent_log_file(const std::string& agent_id) const;
  std::string launcher_pid_file(const std::string& agent_id) const;
  // This machine's dashboard files (its token): P/dashboard/, apart from the agent configs.
  std::string dashboard_local() const { return root_ + "/dashboard"; }
  std::string dashboard_token_file() const { return dashboard_local() + "/token.json"; }
  // The token of a dashboard serving a whole cloudbook home H: H/.cloudbook-dashboard.json.
  static std::string HomeDashboardTokenFile(const std::string& cloudbook_home);
  // Where dashboards before issue 15 kept the token (among the agent configs); moved on start.
  std::string legacy_dashboard_token_file() const { return agents_local() + "/dashboard.json"; }
  // This machine's project settings (where the shared folder is): P/project.json.
  std::string settings_file() const { return root_ + "/project.json"; }
  // This machine's copies of data read from a remote shared folder.
  std::string local_cache() const { return root_ + "/cache"; }
  // This machine's decoded image folders (shared/data/image_folder.h): P/cache/images/.
  std::string image_cache() const { return local_cache() + "/images"; }

  // The shared ("distributed") folder and the names inside it.
  const std::string& shared_folder() const { return shared_.root(); }
  const SharedFolderLayout& shared() const { return shared_; }
  std::string config_file() const { return shared_.config_file(); }
  std::string du_files() const { return shared_.du_files(); }
  std::string du_file(int du_index) const { return shared_.du_file(du_index); }
  std::string du_list_file() const { return shared_.du_list_file(); }
  std::string announcements() const { return shared_.announcements(); }
  std::string assignment_file() const { return shared_.assignment_file(); }
  std::string deployer_lease_file() const { return shared_.deployer_lease_file(); }
  std::string stats() const { return shared_.stats(); }
  std::string checkpoints() const { return shared_.checkpoints(); }
  std::string results() const { return shared_.results(); }
  std::string models() const { return shared_.models(); }
  std::string runs() const { return shared_.runs(); }
  std::string dashboards() const { return shared_.dashboards(); }
  std::string working_dir() const { return shared_.working_dir(); }

 private:
  std::string root_;
  SharedFolderLayout shared_;
};

// The file of one decoded image folder inside an image cache folder:
// <folder_key>-<content_key>.images (keys: hex digests of the folder's path and listing).
std::string ImageCacheFileName(const std::string& folder_key, const std::string& content_key);
inline constexpr const char* kImageCacheSuffix = ".images";

// The file of one subnet's weights inside a checkpoint or model folder: subnet_<index>.pt.
std::string SubnetWeightsFileName(int subnet_index);

// Where the project's shared folder is, as P/project.json says; P/distributed when the file
// is missing or bad (whoever uses the folder reports a bad setting).
std::string ProjectSharedFolder(const std::string& project_folder);

// The layout of the project in `project_folder`, its shared folder mounted: at
// `shared_folder_override` when not empty (a command's --distributed-folder), else where the
// "distributed_folder" setting of P/project.json says, else at P/distributed.
Result<ProjectLayout> OpenProjectLayout(const std::string& project_folder,
                                        const std::string& shared_folder_override = "");

// Records in P/project.json where the project's shared folder is (kept for later commands).
Status WriteProjectSettings(const ProjectLayout& layout);

// The default home of projects: $CLOUDBOOK_HOME, else ~/cloudbook.
std::string DefaultCloudbookHome();

}  // namespace cloudbook
