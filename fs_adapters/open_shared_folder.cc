#include <cctype>

#include "fs_adapters/local_shared_folder.h"
#include "fs_adapters/nfs_location.h"
#include "fs_adapters/nfs_shared_folder.h"
#include "fs_adapters/open_shared_folder.h"
#include "fs_adapters/rclone_shared_folder.h"
#include "fs_adapters/synced_shared_folder.h"
#include "shared/shared_folder_mounts.h"

namespace cloudbook {

namespace {

// Where "scheme://" ends when `location` starts with a URL scheme ([A-Za-z][A-Za-z0-9+.-]*),
// else npos: an rclone connection string (":webdav,url=\"http://h\":p") holds "://" later.
size_t UrlSchemeEnd(const std::string& location) {
  const size_t end = location.find("://");
  if (end == std::string::npos || end == 0 ||
      !std::isalpha(static_cast<unsigned char>(location[0]))) {
    return std::string::npos;
  }
  for (size_t i = 1; i < end; ++i) {
    const char c = location[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '.' && c != '-') {
      return std::string::npos;
    }
  }
  return end;
}

}  // namespace

Result<std::unique_ptr<SharedFolder>> OpenSharedFolder(const std::string& location) {
  if (location.empty()) return Status::InvalidArgument("empty shared-folder location");
  const size_t scheme_end = UrlSchemeEnd(location);
  if (scheme_end == std::string::npos) {
    // An rclone remote ("gdrive:", "onedrive:folder", ":webdav,url=...:path"): a ':' before
    // any '/'.
    const size_t colon = location.find(':');
    if (colon != std::string::npos && location.find('/') > colon) {
      CB_ASSIGN_OR_RETURN(std::unique_ptr<RcloneSharedFolder> folder,
                          RcloneSharedFolder::Open(location));
      return std::unique_ptr<SharedFolder>(std::move(folder));
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
                                 "': use a path, nfs://host[:port]/export/path or an rclone "
                                 "remote (gdrive:, onedrive:folder)");
}

}  // namespace cloudbook

namespace cloudbook {

void InstallSharedFolderBackends() { SetSharedFolderOpener(&OpenSharedFolder); }

}  // namespace cloudbook
