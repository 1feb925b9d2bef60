// Choosing a SharedFolder back end from a location string, and installing that choice as
// the opener of shared/shared_folder_mounts.h so that every path under a remote location
// reaches its back end.
#pragma once

#include <memory>
#include <string>

#include "shared/shared_folder.h"

namespace cloudbook {

// Opens a shared folder from a user-given location:
//   a plain path (absolute or relative)  -> the local back end (also any mounted folder);
//   nfs://host[:port]/export/path        -> native NFSv4 client (libnfs: no mount, no root);
//   remote:path (a ':' before any '/')   -> rclone (gdrive:, onedrive:x, connection strings);
// anything else with a scheme is InvalidArgument.
Result<std::unique_ptr<SharedFolder>> OpenSharedFolder(const std::string& location);

// Makes OpenSharedFolder the opener behind MountSharedFolder. Every program calls it first
// thing in main (tests that use remote paths too); calling it again is harmless.
void InstallSharedFolderBackends();

}  // namespace cloudbook
