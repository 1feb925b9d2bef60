// cloudbook-serve's HTTP side (docs/serve.md): TF Serving's REST API for one model,
//   GET  /v1/models/<name>[/versions/1]            status (model_version_status, AVAILABLE)
//   GET  /v1/models/<name>[/versions/1]/metadata   signature, input shape, classes, run, mode,
//                                                  batching counters
//   POST /v1/models/<name>[/versions/1]:predict    {"instances": [...]} or {"inputs": ...}
// over cpp-httplib, requests batched by a BatchQueue in front of a PredictionBackend. Errors
// are JSON {"error": "..."} with a 4xx for the client's faults (bad JSON, shape or type, unknown
// model, wrong method, too large), 503 + Retry-After when overloaded, 500 otherwise; no input
// stops the server. Thread-safe: Start, then Stop once from the owner thread.
#pragma once

#include <memory>
#include <string>

#include "agent/serve/batch_queue.h"
#include "agent/serve/predict_request.h"
#include "agent/serve/prediction_backend.h"
#include "shared/status.h"

namespace cloudbook {

struct ServeServerOptions {
  std::string listen_address = "127.0.0.1";
  int port = 8760;         // 0: any free port
  std::string model_name;  // <name> of the URLs
  std::string token;       // not empty: every call needs it (always off loopback)
  double input_scale = 1;  // raw values are divided by it (ModelInputScale)
  BatchingOptions batching;
  PredictRequestLimits limits;
  size_t max_body_bytes = 8 << 20;
  int http_threads = 16;
};

class ServeServer {
 public:
  // Binds and starts serving. IoError naming the address when it cannot bind;
  // InvalidArgument when listening off loopback without a token.
  static Result<std::unique_ptr<ServeServer>> Start(ServeServerOptions options,
                                                    std::unique_ptr<PredictionBackend> backend);
  ~ServeServer();  // Stop()

  int port() const;
  // http://<address>:<port> (an address of this machine when listening on 0.0.0.0).
  const std::string& url() const;
  bool token_required() const;
  const PredictionBackend& backend() const;
  BatchingCounters counters() const;
  // Stops listening, lets requests in progress finish, then stops the batching thread.
  void Stop();

  class Impl;

 private:
  explicit ServeServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cloudbook
