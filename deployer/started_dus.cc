#include "deployer/started_dus.h"

#include <boost/filesystem.hpp>

namespace cloudbook {

std::string DuCheckpointFolder(const std::string& distributed_folder, int du) {
  return distributed_folder + "/checkpoints/du_" + std::to_string(du);
}

std::set<int> StartedDus(const std::string& distributed_folder,
                         const std::vector<Announcement>& announcements,
                         const std::vector<int>& du_indices) {
  namespace fs = boost::filesystem;
  std::set<int> started;
  for (const Announcement& announcement : announcements) {
    started.insert(announcement.dus.begin(), announcement.dus.end());
  }
  for (const int du : du_indices) {
    if (started.count(du)) continue;
    boost::system::error_code error;
    const fs::path folder = DuCheckpointFolder(distributed_folder, du);
    if (!fs::is_directory(folder, error)) continue;
    fs::directory_iterator it(folder, error);
    if (!error && it != fs::directory_iterator()) started.insert(du);
  }
  return started;
}

}  // namespace cloudbook
