// SharedFolder: the one interface through which components use the project's shared
// ("distributed") folder, whatever stores it: a local or system-mounted folder, an NFS
// export reached without a mount, an rclone remote (LevelDB `Env` style: small, Status
// returns, thread-safe). The back ends live in fs_adapters/; components reach them through
// shared/shared_folder_mounts.h by path.
// Names are relative, '/'-separated paths under the folder's root (see shared_folder_names.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/status.h"

namespace cloudbook {

// What Stat reports. A missing entry is not an error: exists == false.
struct SharedFileInfo {
  bool exists = false;
  bool is_folder = false;
  uint64_t size = 0;
  int64_t modified_unix_ns = 0;  // modification time, nanoseconds since the Unix epoch
};

class SharedFolder {
 public:
  virtual ~SharedFolder() = default;

  // Reads the whole file. NotFound when absent; InvalidArgument when it is larger than
  // `max_bytes`, a folder, or (local) a symlink.
  virtual Result<std::string> ReadFile(const std::string& name, size_t max_bytes) = 0;

  // Writes to a hidden temporary name in the same folder, flushes, then renames over `name`:
  // a reader (on this or another client) sees the old whole file or the new whole file.
  // Creates missing parent folders. One writer per file (the project's rule).
  virtual Status WriteFileAtomically(const std::string& name, const std::string& contents) = 0;

  // Names (not paths) of the entries of `folder` ("" is the root), sorted, without hidden
  // temporaries of in-flight or crashed writes. NotFound when the folder is absent.
  virtual Result<std::vector<std::string>> List(const std::string& folder) = 0;

  // Removes a file or an empty folder. NotFound when absent.
  virtual Status Remove(const std::string& name) = 0;

  virtual Result<SharedFileInfo> Stat(const std::string& name) = 0;

  // Creates `folder` and its missing parents; an existing folder is fine.
  virtual Status MakeFolders(const std::string& folder) = 0;

  // The local path of `name` when the back end has one (local folders), else nullopt.
  virtual std::optional<std::string> LocalPath(const std::string& name) const = 0;

  // Where the folder is, for log lines ("/srv/project/distributed", "nfs://host:2049/x").
  virtual std::string Describe() const = 0;
};

}  // namespace cloudbook
