#include "dashboard/access_policy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "shared/atomic_file.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"

namespace cloudbook {
namespace {

// Compares without stopping at the first difference (no timing hint about the token).
bool SameSecret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

// "127.0.0.1:8750" -> "127.0.0.1"; "[::1]:8750" -> "::1"; "localhost" -> "localhost".
std::string HostWithoutPort(const std::string& host_header) {
  if (!host_header.empty() && host_header[0] == '[') {
    const size_t close = host_header.find(']');
    return close == std::string::npos ? host_header : host_header.substr(1, close - 1);
  }
  const size_t colon = host_header.rfind(':');
  return colon == std::string::npos ? host_header : host_header.substr(0, colon);
}

bool ChangesSomething(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::string RandomHex(size_t bytes) {
  std::random_device source;  // /dev/urandom on Linux
  static const char* kDigits = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned value = source() & 0xffU;
    hex += kDigits[value >> 4];
    hex += kDigits[value & 0xfU];
  }
  return hex;
}

// Creates `folder` (0700) when missing.
Status MakePrivateFolder(const std::string& folder) {
  boost::system::error_code error;
  if (boost::filesystem::is_directory(folder, error)) return Status::Ok();
  boost::filesystem::create_directories(folder, error);
  if (error) return Status::IoError("cannot create " + folder + ": " + error.message());
  chmod(folder.c_str(), 0700);
  return Status::Ok();
}

}  // namespace

bool IsLoopbackAddress(const std::string& address) {
  if (address == "localhost" || address == "::1") return true;
  in_addr ipv4{};
  if (inet_pton(AF_INET, address.c_str(), &ipv4) == 1) {
    return (ntohl(ipv4.s_addr) >> 24) == 127;
  }
  return false;
}

AccessPolicy::AccessPolicy(bool loopback_only, std::string token, int port)
    : loopback_only_(loopback_only), token_(std::move(token)), port_(port) {}

AccessDecision AccessPolicy::Check(const AccessRequest& request) const {
  if (loopback_only_ && !IsLoopbackAddress(HostWithoutPort(request.host_header))) {
    return {403, "this dashboard answers to 127.0.0.1:" + std::to_string(port_) +
                     " only (Host was '" + request.host_header + "')"};
  }
  const bool api = request.path.rfind("/api/", 0) == 0;
  if (api && !token_.empty() && request.method != "OPTIONS") {
    const std::string prefix = "Bearer ";
    const std::string& header = request.authorization_header;
    if (header.compare(0, prefix.size(), prefix) != 0 ||
        !SameSecret(header.substr(prefix.size()), token_)) {
      return {401,
              "this dashboard needs its token: open the page as /?token=<token> (printed "
              "when the dashboard started, kept in <project>/dashboard/token.json)"};
    }
  }
  if (api && ChangesSomething(request.method) &&
      request.content_type.rfind("application/json", 0) != 0) {
    return {415, "send actions as JSON (Content-Type: application/json)"};
  }
  return {};
}

std::string DashboardTokenFile(const std::string& folder, bool is_home) {
  return is_home ? ProjectLayout::HomeDashboardTokenFile(folder)
                 : ProjectLayout(folder).dashboard_token_file();
}

Status MoveLegacyDashboardToken(const std::string& project_folder) {
  const ProjectLayout layout(project_folder);
  const std::string legacy = layout.legacy_dashboard_token_file();
  if (!FileExists(legacy) || FileExists(layout.dashboard_token_file())) return Status::Ok();
  CB_RETURN_IF_ERROR(MakePrivateFolder(layout.dashboard_local()));
  if (::rename(legacy.c_str(), layout.dashboard_token_file().c_str()) != 0) {
    return Status::IoError("cannot move " + legacy + " to " + layout.dashboard_token_file() + ": " +
                           strerror(errno));
  }
  spdlog::info("moved the dashboard token from {} to {}", legacy, layout.dashboard_token_file());
  return Status::Ok();
}

Result<std::string> LoadOrCreateDashboardToken(const std::string& token_file) {
  const std::string path = token_file;
  const std::string folder = boost::filesystem::path(path).parent_path().string();
  if (FileExists(path)) {
    CB_ASSIGN_OR_RETURN(Json stored, ReadJsonFile(path));
    if (!stored.is_object() || !stored.contains("token") || !stored["token"].is_string() ||
        stored["token"].get<std::string>().size() < 32) {
      return Status::Corruption(path + " has no usable \"token\": delete it to make a new one");
    }
    return stored["token"].get<std::string>();
  }
  CB_RETURN_IF_ERROR(MakePrivateFolder(folder));
  const std::string token = RandomHex(32);
  const std::string text = Json({{"token", token}}).dump(2) + "\n";
  // Created 0600 from the first byte, with O_EXCL: a concurrent dashboard keeps its own.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return LoadOrCreateDashboardToken(token_file);
    return Status::IoError("cannot create " + path + ": " + strerror(errno));
  }
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!written || !synced) {
    unlink(path.c_str());
    return Status::IoError("cannot write " + path);
  }
  return token;
}

}  // namespace cloudbook
