#include "agent/serve/serve_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <thread>

#include "agent/serve/serve_access.h"
#include "shared/host_address.h"
#include "shared/http_access.h"
#include "shared/printable.h"

namespace cloudbook {
namespace {

void SendJson(httplib::Response& response, int status, const Json& body) {
  response.status = status;
  response.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace),
                       "application/json");
}

void SendError(httplib::Response& response, int status, const std::string& message) {
  SendJson(response, status, Json{{"error", message}});
}

// A tensor's shape in TF's TensorShapeProto JSON, the batch dimension unknown (-1).
Json TensorShapeJson(const std::vector<int64_t>& per_sample) {
  Json dims = Json::array({Json{{"size", "-1"}, {"name", ""}}});
  for (int64_t size : per_sample)
    dims.push_back(Json{{"size", std::to_string(size)}, {"name", ""}});
  return Json{{"dim", dims}, {"unknown_rank", false}};
}

// What a URL under /v1/models/ asks for.
struct ModelCall {
  enum Kind { kNone, kStatus, kMetadata, kPredict, kOtherVerb } kind = kNone;
  std::string name;
  std::string version;  // empty: latest
  std::string verb;     // after ':'
};

// "/v1/models/<name>[/versions/<v>][/metadata|:<verb>]"; kNone when it is none of these.
ModelCall ParseModelPath(const std::string& path) {
  static const std::string kPrefix = "/v1/models/";
  ModelCall call;
  if (path.compare(0, kPrefix.size(), kPrefix) != 0) return call;
  std::string rest = path.substr(kPrefix.size());
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos) {
    call.verb = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  bool metadata = false;
  if (call.verb.empty() && rest.size() > 9 && rest.compare(rest.size() - 9, 9, "/metadata") == 0) {
    metadata = true;
    rest = rest.substr(0, rest.size() - 9);
  }
  const size_t versions = rest.find("/versions/");
  if (versions != std::string::npos) {
    call.version = rest.substr(versions + 10);
    rest = rest.substr(0, versions);
    if (call.version.empty() || call.version.find('/') != std::string::npos) return call;
  }
  if (rest.empty() || rest.find('/') != std::string::npos) return call;
  call.name = rest;
  if (!call.verb.empty()) {
    call.kind = call.verb == "predict" ? ModelCall::kPredict : ModelCall::kOtherVerb;
  } else {
    call.kind = metadata ? ModelCall::kMetadata : ModelCall::kStatus;
  }
  return call;
}

}  // namespace

class ServeServer::Impl {
 public:
  Impl(ServeServerOptions options, std::unique_ptr<PredictionBackend> backend)
      : options_(std::move(options)),
        backend_(std::move(backend)),
        input_scale_(options_.input_scale),
        queue_(backend_.get(), options_.batching),
        access_(IsLoopbackHost(options_.listen_address), options_.token, options_.port) {}

  Status Bind();
  void Stop();
  Json StatusJson() const;
  Json MetadataJson() const;
  void Dispatch(const httplib::Request& request, const std::string& body,
                httplib::Response& response);
  void Predict(const std::string& body, httplib::Response& response);

  ServeServerOptions options_;
  std::unique_ptr<PredictionBackend> backend_;
  double input_scale_;
  BatchQueue queue_;
  ServeAccess access_;
  httplib::Server server_;
  std::string url_;
  std::thread serve_thread_;
  bool stopped_ = false;
};

Status ServeServer::Impl::Bind() {
  // No SO_REUSEPORT (httplib's default): a second server on a taken port must fail, not share.
  server_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    // Accepted connections inherit it: no Nagle delay on small answers.
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  const int threads = std::max(2, options_.http_threads);
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_.set_payload_max_length(options_.max_body_bytes);
  server_.set_read_timeout(10, 0);
  server_.set_keep_alive_timeout(2);
  if (options_.port == 0) {
    options_.port = server_.bind_to_any_port(options_.listen_address);
  } else if (!server_.bind_to_port(options_.listen_address, options_.port)) {
    options_.port = -1;
  }
  if (options_.port <= 0) {
    return Status::IoError("cannot listen on " + options_.listen_address + ":" +
                           std::to_string(options_.port) +
                           " (in use, or not an address of this machine): choose another with "
                           "--listen ADDRESS:PORT");
  }
  access_ = ServeAccess(IsLoopbackHost(options_.listen_address), options_.token, options_.port);
  std::string shown = options_.listen_address;
  if (shown == "0.0.0.0") {
    Result<AddressChoice> chosen = ChoosePublishedAddress("");
    shown = chosen.ok() ? chosen->address : "127.0.0.1";
  }
  url_ = "http://" + shown + ":" + std::to_string(options_.port);

  server_.set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        if (access_.allow_cross_origin()) {
          response.set_header("Access-Control-Allow-Origin", "*");
          response.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
          response.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        }
        const ServeAccessDecision decision =
            access_.Check(request.method, request.get_header_value("Host"),
                          request.get_header_value("Authorization"));
        if (!decision.allowed()) {
          if (decision.http_status == 401) response.set_header("WWW-Authenticate", "Bearer");
          SendError(response, decision.http_status, decision.reason);
          return httplib::Server::HandlerResponse::Handled;
        }
        // Refused before httplib reads (and would drain) a body announced too large.
        if (request.get_header_value<uint64_t>("Content-Length") > options_.max_body_bytes) {
          response.status = 413;
          if (request.get_header_value("Connection") != "close") {
            response.set_header("Connection", "close");  // what follows is not a request
          }
          return httplib::Server::HandlerResponse::Handled;  // the error handler says why
        }
        if (request.method == "OPTIONS") {  // a CORS preflight
          response.status = access_.allow_cross_origin() ? 204 : 403;
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });
  // httplib's own refusals (a body over the cap, a malformed request line) get a JSON body.
  server_.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request&, httplib::Response& response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string message = "bad request";
        if (response.status == 413) {
          message = "the body is larger than " + std::to_string(options_.max_body_bytes) +
                    " bytes (tunable serve_max_body_bytes): send fewer instances per request";
        } else if (response.status == 404) {
          message = "no such endpoint: see GET /v1/models/" + options_.model_name;
        } else if (response.status >= 500) {
          message = "internal error";
        }
        SendError(response, response.status, message);
        return httplib::Server::HandlerResponse::Handled;
      }));
  server_.set_exception_handler([](const httplib::Request& request, httplib::Response& response,
                                   std::exception_ptr error) {
    std::string what = "unknown error";
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& exception) {
      what = exception.what();
    } catch (...) {
    }
    spdlog::error("{} {}: {}", Printable(request.method), Printable(request.path), Printable(what));
    SendError(response, 500, "internal error: " + what);
  });
  const auto dispatch = [this](const httplib::Request& request, httplib::Response& response) {
    Dispatch(request, request.body, response);
  };
  server_.Get(".*", dispatch);
  // POST reads its body itself: httplib would refuse a form-encoded body (what `curl -d`
  // sends) over 8 KiB, a limit compiled into Debian's library.
  server_.Post(".*", [this](const httplib::Request& request, httplib::Response& response,
                            const httplib::ContentReader& read) {
    std::string body;
    bool too_large = false;
    const bool complete = read([&](const char* data, size_t length) {
      too_large = body.size() + length > options_.max_body_bytes;
      if (!too_large) body.append(data, length);
      return !too_large;
    });
    if (too_large || response.status == 413) {
      response.status = 413;
      return;  // the error handler says why
    }
    if (!complete) return SendError(response, 400, "the request body could not be read");
    Dispatch(request, body, response);
  });
  server_.Put(".*", dispatch);
  server_.Patch(".*", dispatch);
  server_.Delete(".*", dispatch);
  serve_thread_ = std::thread([this] { server_.listen_after_bind(); });
  return Status::Ok();
}

void ServeServer::Impl::Stop() {
  if (stopped_) return;
  stopped_ = true;
  server_.stop();
  if (serve_thread_.joinable()) serve_thread_.join();
  queue_.Stop();
}

Json ServeServer::Impl::StatusJson() const {
  return Json{{"model_version_status",
               Json::array({Json{{"version", "1"},
                                 {"state", "AVAILABLE"},
                                 {"status", {{"error_code", "OK"}, {"error_message", ""}}}}})}};
}

Json ServeServer::Impl::MetadataJson() const {
  const RunModel& model = backend_->model();
  Json classes = Json::array();
  for (int64_t id = 0; model.problem != ProblemType::kRegression && id < model.outputs(); ++id) {
    classes.push_back(id < static_cast<int64_t>(model.class_names.size())
                          ? Json(model.class_names[static_cast<size_t>(id)])
                          : Json(id));
  }
  const Json signature = {{"inputs",
                           {{"input",
                             {{"dtype", "DT_FLOAT"},
                              {"tensor_shape", TensorShapeJson(model.input_shape)},
                              {"name", "input"}}}}},
                          {"outputs",
                           {{"output",
                             {{"dtype", "DT_FLOAT"},
                              {"tensor_shape", TensorShapeJson({model.outputs()})},
                              {"name", "output"}}}}},
                          {"method_name", "tensorflow/serving/predict"}};
  const BatchingCounters counters = queue_.counters();
  const BatchingOptions& batching = queue_.options();
  return Json{
      {"model_spec", {{"name", options_.model_name}, {"signature_name", ""}, {"version", "1"}}},
      {"metadata", {{"signature_def", {{"signature_def", {{"serving_default", signature}}}}}}},
      {"cloudbook",
       {{"run", model.run},
        {"project", model.project},
        {"mode", backend_->mode()},
        {"problem", ProblemTypeName(model.problem)},
        {"composition", model.composition},
        {"subnets", model.weights.size()},
        {"input_shape", model.input_shape},
        {"input_scale", input_scale_},
        {"outputs", model.outputs()},
        {"classes", classes},
        {"batching",
         {{"max_batch", batching.max_batch},
          {"max_wait_ms", batching.max_wait.count()},
          {"max_queued_samples", batching.max_queued_samples},
          {"requests", counters.requests},
          {"samples", counters.samples},
          {"batches", counters.batches},
          {"shared_batches", counters.shared_batches},
          {"largest_batch", counters.largest_batch},
          {"refused", counters.refused},
          {"queued_samples", counters.queued_samples}}}}}};
}

void ServeServer::Impl::Dispatch(const httplib::Request& request, const std::string& body,
                                 httplib::Response& response) {
  const ModelCall call = ParseModelPath(request.path);
  if (call.kind == ModelCall::kNone) {
    SendError(response, 404,
              "no such endpoint: " + Printable(request.path) + " (this server answers GET " +
                  "/v1/models/" + options_.model_name + ", .../metadata and POST :predict)");
    return;
  }
  if (call.name != options_.model_name) {
    SendError(response, 404,
              "Servable not found for request: Latest(" + Printable(call.name) +
                  "); this server serves the model '" + options_.model_name + "'");
    return;
  }
  if (!call.version.empty() && call.version != "1") {
    SendError(response, 404,
              "Servable not found for request: Specific(" + Printable(call.name) + ", " +
                  Printable(call.version) + "); this server has version 1 only");
    return;
  }
  if (call.kind == ModelCall::kOtherVerb) {
    SendError(response, 400,
              "':" + Printable(call.verb) + "' is not served: this server answers ':predict'");
    return;
  }
  const std::string allowed = call.kind == ModelCall::kPredict ? "POST" : "GET";
  if (request.method != allowed) {
    response.set_header("Allow", allowed);
    SendError(response, 405,
              Printable(request.method) + " " + Printable(request.path) + ": use " + allowed);
    return;
  }
  if (call.kind == ModelCall::kStatus) return SendJson(response, 200, StatusJson());
  if (call.kind == ModelCall::kMetadata) return SendJson(response, 200, MetadataJson());
  Predict(body, response);
}

void ServeServer::Impl::Predict(const std::string& body, httplib::Response& response) {
  Result<PredictRequest> parsed =
      ParsePredictRequest(backend_->model(), input_scale_, body, options_.limits);
  if (!parsed.ok()) return SendError(response, 400, parsed.status().message());
  BatchAnswer answer = queue_.Predict(std::move(parsed->x));
  if (answer.overloaded) {
    response.set_header("Retry-After", "1");
    return SendError(response, 503, "overloaded: " + answer.result.status().message());
  }
  if (!answer.result.ok()) {
    const Status& status = answer.result.status();
    if (status.code() == Status::Code::kInvalidArgument) {
      return SendError(response, 400, status.message());
    }
    spdlog::warn("prediction failed: {}", status.message());
    if (status.code() == Status::Code::kIoError) {  // the agents: may come back
      response.set_header("Retry-After", "1");
      return SendError(response, 503, status.message());
    }
    return SendError(response, 500, status.message());
  }
  SendJson(response, 200, PredictResponse(backend_->model(), *answer.result, parsed->columnar));
}

Result<std::unique_ptr<ServeServer>> ServeServer::Start(
    ServeServerOptions options, std::unique_ptr<PredictionBackend> backend) {
  if (!IsLoopbackHost(options.listen_address) && options.token.empty()) {
    return Status::InvalidArgument("listening on " + options.listen_address +
                                   " (not loopback) needs a token");
  }
  if (options.model_name.empty()) options.model_name = backend->model().project;
  auto impl = std::make_unique<Impl>(std::move(options), std::move(backend));
  CB_RETURN_IF_ERROR(impl->Bind());
  return std::unique_ptr<ServeServer>(new ServeServer(std::move(impl)));
}

ServeServer::ServeServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServeServer::~ServeServer() { Stop(); }
int ServeServer::port() const { return impl_->options_.port; }
const std::string& ServeServer::url() const { return impl_->url_; }
bool ServeServer::token_required() const { return impl_->access_.token_required(); }
const PredictionBackend& ServeServer::backend() const { return *impl_->backend_; }
BatchingCounters ServeServer::counters() const { return impl_->queue_.counters(); }
void ServeServer::Stop() { impl_->Stop(); }

}  // namespace cloudbook
