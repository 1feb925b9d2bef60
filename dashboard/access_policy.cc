#include "dashboard/access_policy.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <cstring>

#include "shared/atomic_file.h"
#include "shared/http_access.h"
#include "shared/project_layout.h"

namespace cloudbook {
namespace {

bool ChangesSomething(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
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

AccessPolicy::AccessPolicy(bool loopback_only, std::string token, int port)
    : loopback_only_(loopback_only), token_(std::move(token)), port_(port) {}

AccessDecision AccessPolicy::Check(const AccessRequest& request) const {
  if (loopback_only_ && !IsLoopbackHost(HostHeaderHost(request.host_header))) {
    return {403, "this dashboard answers to 127.0.0.1:" + std::to_string(port_) +
                     " only (Host was '" + request.host_header + "')"};
  }
  const bool api = request.path.rfind("/api/", 0) == 0;
  if (api && !token_.empty() && request.method != "OPTIONS") {
    if (!BearerTokenMatches(request.authorization_header, token_)) {
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

}  // namespace cloudbook
