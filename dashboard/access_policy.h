// Who may use the dashboard. On loopback (the default) only this machine's users reach it;
// bound elsewhere, every API call needs the dashboard's token (`Authorization: Bearer <t>`),
// printed at start and kept in P/dashboard/token.json (0600, this machine's: never in the
// shared folder). Always: a request that changes something must be
// JSON (a web page of another site cannot send one without a CORS preflight, which we do not
// grant on loopback), and on loopback the Host header must name loopback (no DNS rebinding).
// Kept apart from the HTTP library so that the rules are unit tested as plain calls. The
// rules cloudbook-serve shares (loopback, Host, Bearer, the token file) are shared/http_access.h.
#pragma once

#include <string>

#include "shared/status.h"

namespace cloudbook {

struct AccessRequest {
  std::string method;  // GET, POST, PUT, DELETE, OPTIONS...
  std::string path;
  std::string host_header;
  std::string authorization_header;
  std::string content_type;
};

struct AccessDecision {
  int http_status = 0;  // 0: allowed; else 400, 401, 403 or 415
  std::string reason;
  bool allowed() const { return http_status == 0; }
};

class AccessPolicy {
 public:
  // `token` empty: no token (loopback only). `port`: the port the dashboard listens on.
  AccessPolicy(bool loopback_only, std::string token, int port);

  AccessDecision Check(const AccessRequest& request) const;
  bool token_required() const { return !token_.empty(); }
  // Cross-origin pages may call a token-protected dashboard (the owner's page talking to
  // another machine's dashboard); the token is the protection there.
  bool allow_cross_origin() const { return token_required(); }

 private:
  bool loopback_only_;
  std::string token_;
  int port_;
};

// Where the token is kept: P/dashboard/token.json for a project folder, or
// H/.cloudbook-dashboard.json for a dashboard serving a whole cloudbook home.
std::string DashboardTokenFile(const std::string& folder, bool is_home);

// Moves a token left by an older dashboard in P/agents/dashboard.json (where every
// `cloudbook-agent list` took it for a broken agent config) to P/dashboard/token.json, unless
// that exists already. Nothing to move is not an error.
Status MoveLegacyDashboardToken(const std::string& project_folder);

}  // namespace cloudbook
