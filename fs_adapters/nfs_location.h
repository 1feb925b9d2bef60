// nfs://host[:port]/export/path, parsed: the location of an NFS shared folder (the server,
// the NFSv4 port, and the path on the server's pseudo file system, export included).
#pragma once

#include <cstdint>
#include <string>

#include "shared/status.h"

namespace cloudbook {

struct NfsLocation {
  std::string host;  // name or IPv4 address
  uint16_t port = 2049;
  std::string path;  // "/export/path", never empty, no trailing '/'

  std::string ToUrl() const;  // "nfs://host:port/export/path"
};

// InvalidArgument with the reason when `url` is not nfs://host[:port]/path (no query, no
// "..", no user info).
Result<NfsLocation> ParseNfsUrl(const std::string& url);

}  // namespace cloudbook
