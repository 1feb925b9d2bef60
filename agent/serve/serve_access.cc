#include "agent/serve/serve_access.h"

#include "shared/http_access.h"

namespace cloudbook {

ServeAccessDecision ServeAccess::Check(const std::string& method, const std::string& host_header,
                                       const std::string& authorization_header) const {
  if (loopback_only_ && !IsLoopbackHost(HostHeaderHost(host_header))) {
    return {403, "this server answers to 127.0.0.1:" + std::to_string(port_) + " only (Host was '" +
                     host_header + "')"};
  }
  if (!token_.empty() && method != "OPTIONS" && !BearerTokenMatches(authorization_header, token_)) {
    return {401,
            "this server needs its token: send 'Authorization: Bearer <token>' (the token is "
            "in the --token-file the server was started with; by default the dashboard's, "
            "<project>/dashboard/token.json)"};
  }
  return {};
}

}  // namespace cloudbook
