#include "shared/project_layout.h"

#include <boost/filesystem.hpp>
#include <cstdio>
#include <cstdlib>

#include "shared/atomic_file.h"
#include "shared/json_io.h"
#include "shared/shared_folder_mounts.h"

namespace cloudbook {

namespace {

constexpr size_t kMaxSettingsBytes = 64 * 1024;

std::string WithoutTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

SharedFolderLayout::SharedFolderLayout(std::string shared_folder)
    // "gdrive:" keeps its ':'; "nfs://h/p/" loses the slash like a local path.
    : root_(WithoutTrailingSlashes(std::move(shared_folder))) {}

std::string ImageCacheFileName(const std::string& folder_key, const std::string& content_key) {
  return folder_key + "-" + content_key + kImageCacheSuffix;
}

std::string SharedFolderLayout::announcement_file(const std::string& agent_id) const {
  return announcements() + "/" + agent_id + ".json";
}

std::string SharedFolderLayout::stats_file(const std::string& agent_id) const {
  return stats() + "/" + agent_id + ".json";
}

std::string SharedFolderLayout::du_checkpoints(int du_index) const {
  return checkpoints() + "/du_" + std::to_string(du_index);
}

std::string SharedFolderLayout::results_file(const std::string& run) const {
  return results() + "/" + run + ".json";
}

std::string SharedFolderLayout::subnet_checkpoint_file(int du_index, int subnet_index) const {
  return du_checkpoints(du_index) + "/" + SubnetWeightsFileName(subnet_index);
}

std::string SubnetWeightsFileName(int subnet_index) {
  return "subnet_" + std::to_string(subnet_index) + ".pt";
}

std::string SharedFolderLayout::serve_endpoint_file(const std::string& host, int port) const {
  return serve_endpoints() + "/" + host + "-" + std::to_string(port) + ".json";
}

std::string SharedFolderLayout::model_folder(const std::string& run) const {
  return models() + "/" + run;
}

std::string SharedFolderLayout::run_progress_file(const std::string& run) const {
  return runs() + "/" + run + ".json";
}

std::string SharedFolderLayout::dashboard_file(const std::string& host) const {
  return dashboards() + "/" + host + ".json";
}

ProjectLayout::ProjectLayout(std::string project_folder)
    : root_(WithoutTrailingSlashes(std::move(project_folder))), shared_(root_ + "/distributed") {}

ProjectLayout::ProjectLayout(std::string project_folder, std::string shared_folder)
    : root_(WithoutTrailingSlashes(std::move(project_folder))),
      shared_(shared_folder.empty() ? root_ + "/distributed" : std::move(shared_folder)) {}

std::string ProjectLayout::agent_config_file(const std::string& agent_id) const {
  return agents_local() + "/" + agent_id + ".json";
}

std::string ProjectLayout::agent_pid_file(const std::string& agent_id) const {
  return agents_local() + "/" + agent_id + ".pid";
}

std::string ProjectLayout::agent_control_file(const std::string& agent_id) const {
  return agents_local() + "/" + agent_id + ".control";
}

std::string ProjectLayout::agent_log_file(const std::string& agent_id) const {
  return agents_local() + "/" + agent_id + ".log";
}

std::string ProjectLayout::launcher_pid_file(const std::string& agent_id) const {
  return agents_local() + "/" + agent_id + ".run.pid";
}

std::string ProjectLayout::HomeDashboardTokenFile(const std::string& cloudbook_home) {
  return WithoutTrailingSlashes(cloudbook_home) + "/.cloudbook-dashboard.json";
}

std::string ProjectSharedFolder(const std::string& project_folder) {
  auto layout = OpenProjectLayout(project_folder);
  return layout.ok() ? layout->shared_folder() : ProjectLayout(project_folder).shared_folder();
}

Result<ProjectLayout> OpenProjectLayout(const std::string& project_folder,
                                        const std::string& shared_folder_override) {
  std::string distributed = shared_folder_override;
  // A relative local path given on a command line is relative to where the command runs:
  // recorded absolute, it means the same from every later command.
  if (!distributed.empty() && !IsRemoteLocation(distributed) && distributed.front() != '/') {
    distributed = boost::filesystem::absolute(distributed).lexically_normal().string();
  }
  const ProjectLayout plain(project_folder);
  if (distributed.empty()) {
    auto text = ReadRegularFileBounded(plain.settings_file(), kMaxSettingsBytes);
    if (text.ok()) {
      CB_ASSIGN_OR_RETURN(const Json settings, ParseJsonText(*text, plain.settings_file()));
      if (!settings.is_object() || !settings.contains("distributed_folder") ||
          !settings["distributed_folder"].is_string() ||
          settings["distributed_folder"].get<std::string>().empty()) {
        return Status::InvalidArgument(plain.settings_file() +
                                       ": needs \"distributed_folder\": \"<path or URL>\"");
      }
      distributed = settings["distributed_folder"].get<std::string>();
      // A relative local path in the settings is relative to the project, wherever the
      // command runs from.
      if (!IsRemoteLocation(distributed) && distributed.front() != '/') {
        distributed = plain.root() + "/" + distributed;
      }
    } else if (text.status().code() != Status::Code::kNotFound) {
      return text.status().WithContext(plain.settings_file());
    }
  }
  const ProjectLayout layout(project_folder, distributed);
  const Status mounted = MountSharedFolder(layout.shared_folder());
  if (!mounted.ok()) return mounted.WithContext("shared folder " + layout.shared_folder());
  return layout;
}

Status WriteProjectSettings(const ProjectLayout& layout) {
  return WriteJsonFileAtomically(layout.settings_file(),
                                 Json{{"distributed_folder", layout.shared_folder()}});
}

std::string SharedFolderLayout::du_file(int du_index) const {
  char name[32];
  std::snprintf(name, sizeof name, "/du_%d.json", du_index);
  return du_files() + name;
}

std::string DefaultCloudbookHome() {
  if (const char* home = std::getenv("CLOUDBOOK_HOME"); home && *home) return home;
  if (const char* user_home = std::getenv("HOME"); user_home && *user_home) {
    return std::string(user_home) + "/cloudbook";
  }
  return "cloudbook";
}

}  // namespace cloudbook
