// Whole-file reads and atomic writes. A write goes to a hidden temporary name in the same
// folder, is flushed to disk, then renamed over the target (gloo's FileStore model): a reader
// sees the old file or the new one, never a torn one. A remote path (nfs://..., an rclone
// remote, sync://...; see shared/shared_folder_mounts.h) goes to its mounted back end, which
// gives the same guarantee.
#pragma once

#include <cstddef>
#include <string>

#include "shared/status.h"

namespace cloudbook {

// Creates parent folders as needed. The temporary file is removed on failure.
Status WriteFileAtomically(const std::string& path, const std::string& contents);
Result<std::string> ReadWholeFile(const std::string& path);
bool FileExists(const std::string& path);

// Reads a regular file of at most `max_bytes`, without following a symlink in the last path
// component (files in the shared folder are written by other machines: trusted only after
// checks). NotFound when absent; InvalidArgument (with the reason) for a symlink, a
// non-regular file or an oversized one; IoError otherwise.
Result<std::string> ReadRegularFileBounded(const std::string& path, size_t max_bytes);

}  // namespace cloudbook
