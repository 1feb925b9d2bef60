// Where things live in a project folder (docs/project-layout.md). The one place that knows
// folder and file names, so no component spells a path by hand.
#pragma once

#include <string>

namespace cloudbook {

class ProjectLayout {
 public:
  explicit ProjectLayout(std::string project_folder);

  const std::string& root() const { return root_; }
  std::string original() const { return root_ + "/original"; }
  std::string agents_local() const { return root_ + "/agents"; }
  std::string distributed() const { return root_ + "/distributed"; }
  std::string config_file() const { return distributed() + "/config.json"; }
  std::string du_files() const { return distributed() + "/du_files"; }
  std::string du_file(int du_index) const;
  std::string du_list_file() const { return distributed() + "/du_list.json"; }
  std::string announcements() const { return distributed() + "/agents"; }
  std::string assignment_file() const { return distributed() + "/assignment.json"; }
  std::string stats() const { return distributed() + "/stats"; }
  std::string checkpoints() const { return distributed() + "/checkpoints"; }
  std::string results() const { return distributed() + "/results"; }
  std::string working_dir() const { return distributed() + "/working_dir"; }

 private:
  std::string root_;
};

// The default home of projects: $CLOUDBOOK_HOME, else ~/cloudbook.
std::string DefaultCloudbookHome();

}  // namespace cloudbook
