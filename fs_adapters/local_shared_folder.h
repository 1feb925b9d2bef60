// The local back end of SharedFolder: a folder on this machine (or one the system already
// mounts). Symlinks inside the folder are refused (files there come from other machines),
// writes go through shared/atomic_file.h (temporary + fsync + rename).
#pragma once

#include <string>

#include "shared/shared_folder.h"

namespace cloudbook {

class LocalSharedFolder : public SharedFolder {
 public:
  // `root` need not exist yet (MakeFolders("") or the first write creates it).
  explicit LocalSharedFolder(std::string root);

  Result<std::string> ReadFile(const std::string& name, size_t max_bytes) override;
  Status WriteFileAtomically(const std::string& name, const std::string& contents) override;
  Result<std::vector<std::string>> List(const std::string& folder) override;
  Status Remove(const std::string& name) override;
  Result<SharedFileInfo> Stat(const std::string& name) override;
  Status MakeFolders(const std::string& folder) override;
  std::optional<std::string> LocalPath(const std::string& name) const override;
  std::string Describe() const override { return root_; }

 private:
  // Validates `name` and refuses a symlink as any of its components (the root itself may
  // be one: that is the user's choice). Returns the full path.
  Result<std::string> CheckedPath(const std::string& name, bool allow_root) const;

  std::string root_;
};

}  // namespace cloudbook
