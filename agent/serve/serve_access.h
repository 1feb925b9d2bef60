// Who may call cloudbook-serve (docs/serve.md, "Access"): the dashboard's rules
// (dashboard/access_policy.h) on the parts of shared/http_access.h. Listening on loopback (the
// default), the Host header must name loopback (no DNS rebinding); listening elsewhere, or
// given --token-file, every call needs `Authorization: Bearer <token>`; a token-guarded server
// lets pages of other origins call it (CORS), since the token is the protection there.
// Pure and thread-safe.
#pragma once

#include <string>

namespace cloudbook {

struct ServeAccessDecision {
  int http_status = 0;  // 0: allowed; else 401 or 403
  std::string reason;
  bool allowed() const { return http_status == 0; }
};

class ServeAccess {
 public:
  // `token` empty: no token (only allowed with `loopback_only`).
  ServeAccess(bool loopback_only, std::string token, int port)
      : loopback_only_(loopback_only), token_(std::move(token)), port_(port) {}

  ServeAccessDecision Check(const std::string& method, const std::string& host_header,
                            const std::string& authorization_header) const;
  bool token_required() const { return !token_.empty(); }
  bool allow_cross_origin() const { return token_required(); }

 private:
  bool loopback_only_;
  std::string token_;
  int port_;
};

}  // namespace cloudbook
