#include "shared/project_layout.h"

#include <cstdio>
#include <cstdlib>

namespace cloudbook {

ProjectLayout::ProjectLayout(std::string project_folder) : root_(std::move(project_folder)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string ProjectLayout::du_file(int du_index) const {
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
