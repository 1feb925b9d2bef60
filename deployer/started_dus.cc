#include "deployer/started_dus.h"

#include "shared/project_layout.h"
#include "shared/shared_files.h"

namespace cloudbook {

std::string DuCheckpointFolder(const std::string& shared_folder, int du) {
  return SharedFolderLayout(shared_folder).du_checkpoints(du);
}

std::set<int> StartedDus(const std::string& shared_folder,
                         const std::vector<Announcement>& announcements,
                         const std::vector<int>& du_indices) {
  std::set<int> started;
  for (const Announcement& announcement : announcements) {
    started.insert(announcement.dus.begin(), announcement.dus.end());
  }
  for (const int du : du_indices) {
    if (started.count(du)) continue;
    const auto entries = ListFolder(DuCheckpointFolder(shared_folder, du));
    if (entries.ok() && !entries->empty()) started.insert(du);
  }
  return started;
}

}  // namespace cloudbook
