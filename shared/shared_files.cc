#include "shared/shared_files.h"

#include <sys/stat.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cerrno>
#include <cstring>

#include "shared/shared_folder_mounts.h"
#include "shared/shared_folder_names.h"

namespace cloudbook {

namespace fs = boost::filesystem;

Result<std::vector<std::string>> ListFolder(const std::string& folder) {
  if (IsRemoteLocation(folder)) {
    CB_ASSIGN_OR_RETURN(const MountedPath mounted, ResolveMountedPath(folder));
    return mounted.folder->List(mounted.name);
  }
  boost::system::error_code error;
  // The scanned folders (agents/, stats/, runs/...) can be replaced by a link to anywhere by
  // whoever writes the shared folder: never list, and so never read, through it.
  if (fs::is_symlink(fs::symlink_status(folder, error))) {
    return Status::InvalidArgument(folder + " is a symlink (symlinks are not followed)");
  }
  if (!fs::is_directory(folder, error)) {
    if (!fs::exists(folder, error)) return Status::NotFound(folder);
    return Status::InvalidArgument(folder + " is not a folder");
  }
  std::vector<std::string> names;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!IsHiddenTemporary(name)) names.push_back(name);
  }
  if (error) return Status::IoError("cannot list " + folder + ": " + error.message());
  std::sort(names.begin(), names.end());
  return names;
}

Status MakeFolders(const std::string& folder) {
  if (IsRemoteLocation(folder)) {
    CB_ASSIGN_OR_RETURN(const MountedPath mounted, ResolveMountedPath(folder));
    return mounted.folder->MakeFolders(mounted.name);
  }
  boost::system::error_code error;
  fs::create_directories(folder, error);
  if (error) return Status::IoError("cannot create folder " + folder + ": " + error.message());
  return Status::Ok();
}

Status RemovePath(const std::string& path) {
  if (IsRemoteLocation(path)) {
    CB_ASSIGN_OR_RETURN(const MountedPath mounted, ResolveMountedPath(path));
    return mounted.folder->Remove(mounted.name);
  }
  boost::system::error_code error;
  if (!fs::exists(fs::symlink_status(path, error))) return Status::NotFound(path);
  fs::remove(path, error);
  if (error) return Status::IoError("cannot remove " + path + ": " + error.message());
  return Status::Ok();
}

Result<SharedFileInfo> StatPath(const std::string& path) {
  if (IsRemoteLocation(path)) {
    CB_ASSIGN_OR_RETURN(const MountedPath mounted, ResolveMountedPath(path));
    return mounted.folder->Stat(mounted.name);
  }
  struct stat info;
  SharedFileInfo result;
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return result;
    return Status::IoError("cannot stat " + path + ": " + std::strerror(errno));
  }
  result.exists = true;
  result.is_folder = S_ISDIR(info.st_mode);
  result.size = static_cast<uint64_t>(info.st_size);
  result.modified_unix_ns =
      static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000LL + info.st_mtim.tv_nsec;
  return result;
}

bool PathExists(const std::string& path) {
  const Result<SharedFileInfo> info = StatPath(path);
  return info.ok() && info->exists;
}

}  // namespace cloudbook
