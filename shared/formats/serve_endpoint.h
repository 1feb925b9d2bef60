// distributed/serve/<host>-<port>.json: a running cloudbook-serve announces where it answers
// (written by the server at start and every announce interval, removed when it stops; read by
// the dashboard's "try it" box). Advisory: a reader checks `updated_ms` against the liveness
// timeout and still handles a server that has gone. Stateless functions; errors name the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "shared/status.h"

namespace cloudbook {

inline constexpr int kServeEndpointFormatVersion = 1;

struct ServeEndpoint {
  std::string url;         // http://127.0.0.1:8760
  std::string model_name;  // the <name> of /v1/models/<name>
  std::string run;         // the run whose model it serves
  std::string mode;        // local | agents
  std::string host;
  int port = 0;
  int64_t pid = 0;
  bool token_required = false;  // listening off loopback: requests need the token
  int64_t updated_ms = 0;       // unix ms, the writer's clock
};

Json ToJson(const ServeEndpoint& endpoint);
Result<ServeEndpoint> ServeEndpointFromJson(const Json& json, const std::string& source);

// Writes serve/<host>-<port>.json atomically (updated_ms set to now).
Status WriteServeEndpoint(const SharedFolderLayout& layout, ServeEndpoint endpoint);
// Removes it; a missing file is fine.
Status RemoveServeEndpoint(const SharedFolderLayout& layout, const std::string& host, int port);
// Every readable announcement, freshest first; unreadable files are skipped. Empty when none.
std::vector<ServeEndpoint> ReadServeEndpoints(const SharedFolderLayout& layout);

}  // namespace cloudbook
