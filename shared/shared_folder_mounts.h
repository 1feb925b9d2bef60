// Paths that name files in a remote shared folder ("nfs://host/export/p/agents/a.json",
// "gdrive:project/stats/x.json", "sync:///home/u/Drive/p/assignment.json") and the table of
// back ends opened for them in this process (TensorFlow's file-system registry model).
// Components keep building paths by string concatenation from one location; the file
// functions of shared/atomic_file.h and shared/shared_files.h send a remote path to the back
// end mounted for its location, and a plain path to the local file system.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "shared/shared_folder.h"
#include "shared/status.h"

namespace cloudbook {

// True for "scheme://..." (nfs, sync, file, ...) and for rclone remotes: a ':' before any
// '/' ("gdrive:", "onedrive:x/y", ":webdav,url=...:path"). Plain paths, absolute or
// relative, are local ("./gdrive:" is a local folder).
bool IsRemoteLocation(const std::string& path);

using SharedFolderOpener =
    std::function<Result<std::unique_ptr<SharedFolder>>(const std::string& location)>;

// Installed once per process (fs_adapters' InstallSharedFolderBackends) before any mount.
void SetSharedFolderOpener(SharedFolderOpener opener);

// Records a remote `location` so that paths under it route to its back end, opened at the
// first use (a failed open is retried at the next use). Cheap: reading a config declares
// its shared folder without connecting. A local path needs nothing.
void DeclareSharedFolder(const std::string& location);

// Declares `location` and opens its back end now (later calls: no-ops), so that a bad
// location or an unreachable server is reported at start. A local path: Ok. The opened back
// end lives until the process ends (it may hold a connection or an rclone process).
Status MountSharedFolder(const std::string& location);

// A remote path resolved to its mounted back end and the name inside it ("" for the root).
struct MountedPath {
  SharedFolder* folder = nullptr;
  std::string name;
};

// The declared location that is the longest prefix of `path` at a '/' boundary, its back end
// opened if needed. InvalidArgument when no declared location holds `path` (the caller
// forgot to declare it, or the path is outside the project's shared folder).
Result<MountedPath> ResolveMountedPath(const std::string& path);

}  // namespace cloudbook
