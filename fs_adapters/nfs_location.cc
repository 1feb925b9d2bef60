#include "fs_adapters/nfs_location.h"

#include <cctype>

#include "shared/shared_folder_names.h"

namespace cloudbook {

namespace {

constexpr char kScheme[] = "nfs://";

Status Invalid(const std::string& url, const std::string& why) {
  return Status::InvalidArgument("bad NFS location '" + url + "': " + why +
                                 " (expected nfs://host[:port]/export/path)");
}

}  // namespace

std::string NfsLocation::ToUrl() const {
  return std::string(kScheme) + host + ":" + std::to_string(port) + path;
}

Result<NfsLocation> ParseNfsUrl(const std::string& url) {
  const std::string scheme = kScheme;
  if (url.compare(0, scheme.size(), scheme) != 0) return Invalid(url, "not an nfs:// URL");
  const std::string rest = url.substr(scheme.size());
  if (rest.find_first_of("?#@") != std::string::npos) {
    return Invalid(url, "queries, fragments and user names are not supported");
  }
  const size_t slash = rest.find('/');
  if (slash == std::string::npos) return Invalid(url, "no export path");
  const std::string authority = rest.substr(0, slash);
  NfsLocation location;
  const size_t colon = authority.find(':');
  location.host = authority.substr(0, colon);
  if (location.host.empty()) return Invalid(url, "no host");
  for (const char c : location.host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return Invalid(url, "host '" + location.host + "' has a character other than a-z0-9.-_");
    }
  }
  if (colon != std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
        std::stoi(port) > 65535) {
      return Invalid(url, "port '" + port + "' is not a number in 1..65535");
    }
    location.port = static_cast<uint16_t>(std::stoi(port));
  }
  std::string path = rest.substr(slash + 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.empty()) return Invalid(url, "no export path");
  const Status path_status = ValidateSharedName(path);
  if (!path_status.ok()) return Invalid(url, path_status.message());
  location.path = "/" + path;
  return location;
}

}  // namespace cloudbook
