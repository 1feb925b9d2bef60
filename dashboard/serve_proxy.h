// The "try it" box's way to a running cloudbook-serve (docs/dashboard.md "Model"): picks a
// server announced for the run (distributed/serve/<host>-<port>.json), posts the TF Serving
// request {"instances": [instance]} to <url>/v1/models/<name>:predict and turns the answer
// {"predictions": [[probabilities]]} into the box's: predicted class, its name, the top
// probabilities. Announcements are unsigned files of the shared folder, so the proxy calls
// only plain http://<host>:<port> origins, never sends a token (a server that requires one is
// not used), and bounds the answer in size and time. Stateless; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "shared/formats/run_model.h"
#include "shared/formats/serve_endpoint.h"
#include "shared/json_io.h"

namespace cloudbook {

struct ServeAnswer {
  int http_status = 200;
  // 200: {server, mode, class, name, probabilities, top: [{class, name, probability}]} (a
  // regression: {server, mode, values}). Else {error, and "start" when no server is up}.
  Json body;
};

// `endpoints`: ReadServeEndpoints (freshest first). `start`: the command that starts a server
// for the run, shown when none is up (503). A server that does not answer, or answers
// nonsense: 502; its own 4xx (the sample does not fit): passed on with its message.
ServeAnswer AskModelServer(const std::vector<ServeEndpoint>& endpoints, const RunModel& model,
                           const Json& instance, const std::string& start);

}  // namespace cloudbook
