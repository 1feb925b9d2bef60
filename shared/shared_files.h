// Folder operations on a path that is either local or inside a mounted remote shared folder
// (shared/shared_folder_mounts.h): the companions of the whole-file reads and atomic writes
// of shared/atomic_file.h, which route the same way.
#pragma once

#include <string>
#include <vector>

#include "shared/shared_folder.h"
#include "shared/status.h"

namespace cloudbook {

// Entry names of `folder`, sorted, without the hidden temporaries of in-flight or crashed
// atomic writes. NotFound when the folder is absent; InvalidArgument when it is a local
// symlink (never followed).
Result<std::vector<std::string>> ListFolder(const std::string& folder);

// Creates `folder` and its missing parents; an existing folder is fine.
Status MakeFolders(const std::string& folder);

// Removes a file or an empty folder. NotFound when absent.
Status RemovePath(const std::string& path);

// exists == false for a missing entry (not an error). A local symlink is reported as itself
// (not followed): exists, neither a folder nor, for readers, a regular file.
Result<SharedFileInfo> StatPath(const std::string& path);

// StatPath says it exists (an unreachable remote counts as absent).
bool PathExists(const std::string& path);

}  // namespace cloudbook
