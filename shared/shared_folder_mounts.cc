#include "shared/shared_folder_mounts.h"

#include <map>
#include <mutex>

namespace cloudbook {

namespace {

struct MountTable {
  std::mutex mutex;
  SharedFolderOpener opener;  // guarded by mutex
  // A declared location maps to nullptr until its back end is opened.
  std::map<std::string, std::unique_ptr<SharedFolder>> mounts;  // guarded by mutex
};

// Opening under the table's lock: two threads must not open one location twice (an rclone
// back end starts a process). Opens happen at start-up, so the lock is not contended.
Status OpenLocked(MountTable& table, const std::string& location,
                  std::unique_ptr<SharedFolder>& slot) {
  if (slot) return Status::Ok();
  if (!table.opener) {
    return Status::Internal("no shared-folder back ends installed in this program (cannot open " +
                            location + ")");
  }
  CB_ASSIGN_OR_RETURN(slot, table.opener(location));
  return Status::Ok();
}

MountTable& Table() {
  static MountTable* table = new MountTable();  // never destroyed: back ends outlive threads
  return *table;
}

// "x/" and "gdrive:" end a location at a separator already; "nfs://h/p" needs one.
bool Holds(const std::string& location, const std::string& path) {
  if (path.compare(0, location.size(), location) != 0) return false;
  if (path.size() == location.size()) return true;
  const char last = location.back();
  return last == '/' || last == ':' || path[location.size()] == '/';
}

}  // namespace

bool IsRemoteLocation(const std::string& path) {
  const size_t colon = path.find(':');
  if (colon == std::string::npos) return false;
  const size_t slash = path.find('/');
  if (slash != std::string::npos && slash < colon) return false;  // "./a:b", "/x/y:z"
  return true;  // "scheme://..." has its ':' before the first '/', so does "remote:path"
}

void SetSharedFolderOpener(SharedFolderOpener opener) {
  MountTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mutex);
  table.opener = std::move(opener);
}

void DeclareSharedFolder(const std::string& location) {
  if (!IsRemoteLocation(location)) return;
  MountTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mutex);
  table.mounts.emplace(location, nullptr);
}

Status MountSharedFolder(const std::string& location) {
  if (!IsRemoteLocation(location)) return Status::Ok();
  MountTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mutex);
  return OpenLocked(table, location, table.mounts[location]);
}

Result<MountedPath> ResolveMountedPath(const std::string& path) {
  MountTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mutex);
  std::pair<const std::string, std::unique_ptr<SharedFolder>>* best = nullptr;
  for (auto& mount : table.mounts) {
    if (Holds(mount.first, path) && (best == nullptr || mount.first.size() > best->first.size())) {
      best = &mount;
    }
  }
  if (best == nullptr) {
    return Status::InvalidArgument(path + " is not inside an open shared folder");
  }
  CB_RETURN_IF_ERROR(OpenLocked(table, best->first, best->second));
  std::string name = path.substr(best->first.size());
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  while (!name.empty() && name.back() == '/') name.pop_back();
  return MountedPath{best->second.get(), name};
}

}  // namespace cloudbook
