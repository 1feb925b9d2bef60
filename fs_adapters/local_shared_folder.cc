#include "fs_adapters/local_shared_folder.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "shared/atomic_file.h"
#include "shared/shared_files.h"
#include "shared/shared_folder_names.h"

namespace cloudbook {

namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int error) {
  if (error == ENOENT) return Status::NotFound(path);
  return Status::IoError(what + " " + path + ": " + std::strerror(error));
}

}  // namespace

LocalSharedFolder::LocalSharedFolder(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<std::string> LocalSharedFolder::CheckedPath(const std::string& name, bool allow_root) const {
  CB_RETURN_IF_ERROR(ValidateSharedName(name, allow_root));
  std::string path = root_;
  for (const std::string& component : SplitSharedName(name)) {
    path += "/" + component;
    struct stat info;
    if (::lstat(path.c_str(), &info) != 0) break;  // the rest does not exist yet
    if (S_ISLNK(info.st_mode)) {
      return Status::InvalidArgument(path + " is a symlink (symlinks are not followed)");
    }
  }
  return root_ + (name.empty() ? "" : "/" + name);
}

Result<std::string> LocalSharedFolder::ReadFile(const std::string& name, size_t max_bytes) {
  CB_ASSIGN_OR_RETURN(const std::string path, CheckedPath(name, false));
  Result<std::string> contents = ReadRegularFileBounded(path, max_bytes);
  if (!contents.ok() && contents.status().code() != Status::Code::kNotFound) {
    return contents.status().WithContext(path);
  }
  return contents;
}

Status LocalSharedFolder::WriteFileAtomically(const std::string& name,
                                              const std::string& contents) {
  CB_ASSIGN_OR_RETURN(const std::string path, CheckedPath(name, false));
  return cloudbook::WriteFileAtomically(path, contents);
}

Result<std::vector<std::string>> LocalSharedFolder::List(const std::string& folder) {
  CB_ASSIGN_OR_RETURN(const std::string path, CheckedPath(folder, true));
  return ListFolder(path);  // the one local listing (shared/shared_files.h)
}

Status LocalSharedFolder::Remove(const std::string& name) {
  CB_ASSIGN_OR_RETURN(const std::string path, CheckedPath(name, false));
  if (::unlink(path.c_str()) == 0) return Status::Ok();
  if (errno != EISDIR && errno != EPERM) return ErrnoStatus("cannot remove", path, errno);
  // Linux reports EISDIR for a folder (POSIX allows EPERM).
  if (::rmdir(path.c_str()) == 0) return Status::Ok();
  return ErrnoStatus("cannot remove", path, errno);
}

Result<SharedFileInfo> LocalSharedFolder::Stat(const std::string& name) {
  CB_ASSIGN_OR_RETURN(const std::string path, CheckedPath(name, true));
  return StatPath(path);  // lstat: a symlink is reported as itself
}

Status LocalSharedFolder::MakeFolders(const std::string& folder) {
  CB_ASSIGN_OR_RETURN(const std::string path, CheckedPath(folder, true));
  std::string current;
  // The root first (it may be absolute, with several missing parents), then each component.
  std::vector<std::string> prefixes;
  for (size_t slash = root_.find('/', 1); slash != std::string::npos;
       slash = root_.find('/', slash + 1)) {
    prefixes.push_back(root_.substr(0, slash));
  }
  prefixes.push_back(root_);
  current = root_;
  for (const std::string& component : SplitSharedName(folder)) {
    current += "/" + component;
    prefixes.push_back(current);
  }
  for (const std::string& prefix : prefixes) {
    if (::mkdir(prefix.c_str(), 0755) == 0 || errno == EEXIST) continue;
    return ErrnoStatus("cannot create folder", prefix, errno);
  }
  struct stat info;
  if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return Status::IoError(path + " exists and is not a folder");
  }
  return Status::Ok();
}

std::optional<std::string> LocalSharedFolder::LocalPath(const std::string& name) const {
  if (!ValidateSharedName(name, true).ok()) return std::nullopt;
  return root_ + (name.empty() ? "" : "/" + name);
}

}  // namespace cloudbook
