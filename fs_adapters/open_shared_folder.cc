#include "fs_adapters/local_shared_folder.h"
#include "fs_adapters/nfs_location.h"
#include "fs_adapters/nfs_shared_folder.h"
#include "fs_adapters/shared_folder.h"
#include "fs_adapters/synced_shared_folder.h"

namespace cloudbook {

Result<std::unique_ptr<SharedFolder>> OpenSharedFolder(const std::string& location) {
  if (location.empty()) return Status::InvalidArgument("empty shared-folder location");
  const size_t scheme_end = location.find("://");
  if (scheme_end == std::string::npos) {
    // A remote such as "gdrive:" or "onedrive:folder" is not a path either.
    const size_t colon = location.find(':');
    if (colon != std::string::npos && location.find('/') > colon) {
      return Status::InvalidArgument("shared-folder location '" + location +
                                     "' looks like an rclone remote; rclone remotes (gdrive:, "
                                     "onedrive:) come next, use a path or nfs://host/export");
    }
    return std::unique_ptr<SharedFolder>(new LocalSharedFolder(location));
  }
  const std::string scheme = location.substr(0, scheme_end);
  if (scheme == "nfs") {
    CB_ASSIGN_OR_RETURN(const NfsLocation nfs, ParseNfsUrl(location));
    CB_ASSIGN_OR_RETURN(std::unique_ptr<NfsSharedFolder> folder, NfsSharedFolder::Open(nfs));
    return std::unique_ptr<SharedFolder>(std::move(folder));
  }
  if (scheme == "sync" && location.size() > 7) {  // sync:///abs/path or sync://relative/path
    return std::unique_ptr<SharedFolder>(new SyncedSharedFolder(location.substr(7), location));
  }
  if (scheme == "file") {
    return std::unique_ptr<SharedFolder>(new LocalSharedFolder(location.substr(7)));
  }
  return Status::InvalidArgument("unknown shared-folder scheme '" + scheme + "://' in '" +
                                 location +
                                 "': use a path or nfs://host[:port]/export/path (rclone remotes "
                                 "such as gdrive: and onedrive: come next)");
}

}  // namespace cloudbook
