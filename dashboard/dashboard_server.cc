#include "dashboard/dashboard_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <thread>

#include "dashboard/access_policy.h"
#include "dashboard/agent_actions.h"
#include "dashboard/dashboard_registry.h"
#include "dashboard/model_panel.h"
#include "dashboard/project_directory.h"
#include "dashboard/request_gate.h"
#include "dashboard/serve_proxy.h"
#include "dashboard/web_assets.h"
#include "shared/atomic_file.h"
#include "shared/data/raw_test_set.h"
#include "shared/host_address.h"
#include "shared/http_access.h"
#include "shared/printable.h"
#include "shared/tunables.h"

namespace cloudbook {
namespace {

void SendJson(httplib::Response& response, int status, const Json& body) {
  response.status = status;
  // A request path or a name from another machine may hold invalid UTF-8: replace, never throw.
  response.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace),
                       "application/json");
}

void SendError(httplib::Response& response, int status, const std::string& message) {
  SendJson(response, status, {{"error", message}});
}

// Who sent the request (as the gate saw it), printable, for the logs.
std::string ClientOf(const httplib::Request& request) {
  const std::string client = request.get_header_value(kClientHeader);
  return Printable(client.empty() ? request.remote_addr : client);
}

// The body a request may send: an uploaded picture to "try it", else a small JSON action.
size_t BodyLimitOf(const std::string& target) {
  static const std::regex try_it(R"(/api/v1/runs/[^/?]+/try(\?.*)?)");
  return std::regex_match(target, try_it) ? GetTunables().max_try_body_bytes
                                          : GetTunables().max_request_body_bytes;
}

// Standard base64 (RFC 4648 alphabet, padded), not empty.
bool IsBase64(const std::string& text) {
  size_t end = text.size();
  while (end > 0 && text.size() - end < 2 && text[end - 1] == '=') --end;
  if (end == 0 || text.size() % 4 != 0) return false;
  return std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kInvalidArgument:
      return 400;
    default:
      return 500;
  }
}

// The request's JSON body; an empty body is {}.
Result<Json> BodyOf(const httplib::Request& request) {
  if (request.body.empty()) return Json::object();
  return ParseJsonText(request.body, "the request body");
}

}  // namespace

class DashboardServer::Impl {
 public:
  Impl(const DashboardOptions& options, std::string token, std::string host_name)
      : options_(options),
        token_(std::move(token)),
        policy_(IsLoopbackHost(options.listen_address), token_, options.port),
        host_name_(std::move(host_name)) {}

  Status Bind();
  void Serve() {
    serve_thread_ = std::thread([this] { server_.listen_after_bind(); });
    gate_->Start(backend_port_);
  }
  void Stop();

  int port_ = 0;
  std::string url_;
  const std::string& token() const { return token_; }

 private:
  void Routes();
  // The project a request names (?project=, default: the dashboard's first), or null after
  // answering 400/404/503.
  ServedProject* ProjectOf(const httplib::Request& request, httplib::Response& response);
  // Answers with `view(project)` for the request's project.
  void Read(const httplib::Request& request, httplib::Response& response,
            const std::function<Json(ServedProject&)>& view);
  void Action(const httplib::Request& request, httplib::Response& response, const std::string& what,
              const std::function<ActionResult(ServedProject&, const Json&)>& act);
  // The model panel's routes (model_panel.h, serve_proxy.h).
  void ModelRoutes();
  void TryIt(const httplib::Request& request, httplib::Response& response);

  DashboardOptions options_;
  std::string token_;
  AccessPolicy policy_;
  std::string host_name_;
  std::string chart_js_;
  std::unique_ptr<ProjectDirectory> projects_;
  httplib::Server server_;  // on a private loopback port, behind the gate
  int backend_port_ = 0;
  std::unique_ptr<RequestGate> gate_;  // the listening socket (request_gate.h)
  std::thread serve_thread_;
  bool stopped_ = false;
};

Status DashboardServer::Impl::Bind() {
  // httplib's default adds SO_REUSEPORT: a second dashboard on a taken port would then bind
  // too and share the traffic. SO_REUSEADDR alone only allows a restart over TIME_WAIT.
  server_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // One request per connection: the gate hands over each request whole and closes after.
  server_.set_keep_alive_max_count(1);
  Result<std::unique_ptr<RequestGate>> gate =
      RequestGate::Bind(options_.listen_address, options_.port, BodyLimitOf);
  if (!gate.ok()) {
    return Status::IoError("cannot listen on " + options_.listen_address + ":" +
                           std::to_string(options_.port) +
                           " (in use, or not an address of this machine): choose another with "
                           "--listen ADDRESS:PORT");
  }
  gate_ = std::move(*gate);
  port_ = gate_->port();
  backend_port_ = server_.bind_to_any_port("127.0.0.1");
  if (backend_port_ <= 0) return Status::IoError("cannot listen on a loopback port for the gate");
  policy_ = AccessPolicy(IsLoopbackHost(options_.listen_address), token_, port_);
  // Bound to every interface: other machines reach it at the address agents publish too.
  std::string shown_address = options_.listen_address;
  if (shown_address == "0.0.0.0") {
    Result<AddressChoice> chosen = ChoosePublishedAddress("");
    shown_address = chosen.ok() ? chosen->address : "127.0.0.1";
  }
  url_ = "http://" + shown_address + ":" + std::to_string(port_) + "/";

  Result<std::string> chart =
      ReadRegularFileBounded(options_.chart_js, GetTunables().max_chart_js_bytes);
  if (chart.ok()) {
    chart_js_ = std::move(*chart);
  } else {
    spdlog::warn("no charts: {} ({}); install Debian's libjs-chart.js", options_.chart_js,
                 chart.status().ToString());
  }
  ProjectDirectoryOptions directory;
  directory.home = options_.home;
  directory.default_folder = options_.project_folder;
  directory.shared_folder_override = options_.shared_folder_override;
  directory.refresh_s = options_.refresh_s;
  directory.agent_program =
      options_.agent_program.empty() ? FindAgentProgram() : options_.agent_program;
  directory.self.host = host_name_;
  directory.self.url = "http://" + shown_address + ":" + std::to_string(port_);
  directory.self.token_required = policy_.token_required();
  directory.self.pid = getpid();
  projects_ = std::make_unique<ProjectDirectory>(directory);
  // The default project is opened now: an unreachable shared folder is reported at start.
  if (!projects_->default_name().empty()) {
    Result<ServedProject*> opened = projects_->Open("");
    if (!opened.ok()) return opened.status();
  }
  Routes();
  return Status::Ok();
}

void DashboardServer::Impl::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (gate_) gate_->Stop();
  server_.stop();
  if (serve_thread_.joinable()) serve_thread_.join();
  if (projects_) projects_->StopAll();
}

ServedProject* DashboardServer::Impl::ProjectOf(const httplib::Request& request,
                                                httplib::Response& response) {
  Result<ServedProject*> project = projects_->Open(request.get_param_value("project"));
  if (project.ok()) return *project;
  const Status::Code code = project.status().code();
  SendError(response,
            code == Status::Code::kNotFound          ? 404
            : code == Status::Code::kInvalidArgument ? 400
                                                     : 503,
            project.status().message());
  return nullptr;
}

void DashboardServer::Impl::Read(const httplib::Request& request, httplib::Response& response,
                                 const std::function<Json(ServedProject&)>& view) {
  ServedProject* project = ProjectOf(request, response);
  if (project != nullptr) SendJson(response, 200, view(*project));
}

void DashboardServer::Impl::Action(
    const httplib::Request& request, httplib::Response& response, const std::string& what,
    const std::function<ActionResult(ServedProject&, const Json&)>& act) {
  ServedProject* project = ProjectOf(request, response);
  if (project == nullptr) return;
  Result<Json> body = BodyOf(request);
  ActionResult result;
  if (!body.ok()) {
    result = {400, {{"error", body.status().message()}}};
  } else {
    result = act(*project, *body);
  }
  const std::string outcome = result.body.contains("error")
                                  ? result.body["error"].get<std::string>()
                                  : ValueOr(result.body, "message", std::string("ok"));
  spdlog::info("action {} in {} from {}: {} {}", Printable(what), Printable(project->name),
               ClientOf(request), result.http_status, Printable(outcome));
  project->watcher->RefreshSoon();
  SendJson(response, result.http_status, result.body);
}

void DashboardServer::Impl::Routes() {
  server_.set_payload_max_length(
      std::max(GetTunables().max_request_body_bytes, GetTunables().max_try_body_bytes));
  server_.set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        AccessRequest access{request.method, request.path, request.get_header_value("Host"),
                             request.get_header_value("Authorization"),
                             request.get_header_value("Content-Type")};
        if (policy_.allow_cross_origin()) {
          response.set_header("Access-Control-Allow-Origin", "*");
          response.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
          response.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
        }
        const AccessDecision decision = policy_.Check(access);
        if (!decision.allowed()) {
          if (request.method != "GET") {
            spdlog::warn("refused {} {} from {}: {}", Printable(request.method),
                         Printable(request.path), ClientOf(request), Printable(decision.reason));
          }
          SendError(response, decision.http_status, decision.reason);
          return httplib::Server::HandlerResponse::Handled;
        }
        if (request.method == "OPTIONS") {  // a CORS preflight of a token-protected dashboard
          response.status = policy_.allow_cross_origin() ? 204 : 403;
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });
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

  // The page.
  server_.Get(R"(/|/[a-z_]+\.(js|css))",
              [](const httplib::Request& request, httplib::Response& response) {
                const WebAsset* asset = FindWebAsset(request.path);
                if (asset == nullptr) {
                  SendError(response, 404, "no such file: " + request.path);
                  return;
                }
                response.set_header("Cache-Control", "no-cache");
                response.set_content(std::string(asset->body), std::string(asset->content_type));
              });
  server_.Get("/vendor/chart.min.js", [this](const httplib::Request&, httplib::Response& response) {
    if (chart_js_.empty()) {
      SendError(response, 404, "Chart.js is not installed (Debian package libjs-chart.js)");
      return;
    }
    response.set_header("Cache-Control", "max-age=3600");
    response.set_content(chart_js_, "text/javascript; charset=utf-8");
  });

  // Reading.
  server_.Get("/api/v1/projects", [this](const httplib::Request&, httplib::Response& response) {
    SendJson(response, 200, projects_->List());
  });
  server_.Get("/api/v1/overview",
              [this](const httplib::Request& request, httplib::Response& response) {
                Read(request, response, [](ServedProject& project) {
                  Json overview = project.watcher->Overview();
                  overview["project"] = project.name;
                  return overview;
                });
              });
  server_.Get(
      "/api/v1/agents", [this](const httplib::Request& request, httplib::Response& response) {
        Read(request, response, [](ServedProject& project) { return project.watcher->Agents(); });
      });
  server_.Get("/api/v1/stats",
              [this](const httplib::Request& request, httplib::Response& response) {
                int64_t since = 0;
                if (request.has_param("since")) {
                  try {
                    since = std::stoll(request.get_param_value("since"));
                  } catch (const std::exception&) {
                    SendError(response, 400, "since must be unix milliseconds");
                    return;
                  }
                }
                Read(request, response,
                     [since](ServedProject& project) { return project.watcher->Stats(since); });
              });
  server_.Get("/api/v1/runs", [this](const httplib::Request& request, httplib::Response& response) {
    Read(request, response, [](ServedProject& project) { return project.watcher->Runs(); });
  });
  server_.Get(R"(/api/v1/runs/([^/]+))",
              [this](const httplib::Request& request, httplib::Response& response) {
                ServedProject* project = ProjectOf(request, response);
                if (project == nullptr) return;
                Result<Json> detail = project->watcher->RunDetail(request.matches[1].str());
                if (!detail.ok()) {
                  SendError(response, detail.status().code() == Status::Code::kNotFound ? 404 : 400,
                            detail.status().message());
                  return;
                }
                SendJson(response, 200, *detail);
              });
  ModelRoutes();
  server_.Get("/api/v1/dashboards", [this](const httplib::Request& request,
                                           httplib::Response& response) {
    Read(request, response, [](ServedProject& project) { return project.watcher->Dashboards(); });
  });

  // Actions on this machine's agents.
  server_.Post("/api/v1/agents",
               [this](const httplib::Request& request, httplib::Response& response) {
                 Action(request, response, "create", [](ServedProject& project, const Json& body) {
                   return project.actions->Create(body);
                 });
               });
  server_.Post(R"(/api/v1/agents/([^/]+)/launch)", [this](const httplib::Request& request,
                                                          httplib::Response& response) {
    const std::string id = request.matches[1].str();
    Action(request, response, "launch " + id,
           [&](ServedProject& project, const Json&) { return project.actions->Launch(id); });
  });
  server_.Post(R"(/api/v1/agents/([^/]+)/stop)",
               [this](const httplib::Request& request, httplib::Response& response) {
                 const std::string id = request.matches[1].str();
                 Action(request, response, "stop " + id, [&](ServedProject& project, const Json&) {
                   return project.actions->Stop(id, options_.stop_timeout_s);
                 });
               });
  server_.Put(R"(/api/v1/agents/([^/]+)/grant)", [this](const httplib::Request& request,
                                                        httplib::Response& response) {
    const std::string id = request.matches[1].str();
    Action(request, response, "grant " + id, [&](ServedProject& project, const Json& body) {
      return project.actions->EditGrant(id, body);
    });
  });
  server_.Delete(R"(/api/v1/agents/([^/]+))", [this](const httplib::Request& request,
                                                     httplib::Response& response) {
    const std::string id = request.matches[1].str();
    Action(request, response, "remove " + id,
           [&](ServedProject& project, const Json&) { return project.actions->Remove(id); });
  });
}

void DashboardServer::Impl::ModelRoutes() {
  server_.Get(R"(/api/v1/runs/([^/]+)/model)",
              [this](const httplib::Request& request, httplib::Response& response) {
                ServedProject* project = ProjectOf(request, response);
                if (project == nullptr) return;
                Result<Json> facts = project->models->Facts(request.matches[1].str());
                if (!facts.ok()) {
                  SendError(response, HttpStatusOf(facts.status()), facts.status().message());
                  return;
                }
                SendJson(response, 200, *facts);
              });
  server_.Get(R"(/api/v1/runs/([^/]+)/samples/([0-9]{1,12}))",
              [this](const httplib::Request& request, httplib::Response& response) {
                ServedProject* project = ProjectOf(request, response);
                if (project == nullptr) return;
                Result<Json> sample = project->models->Sample(request.matches[1].str(),
                                                              std::stoll(request.matches[2].str()));
                if (!sample.ok()) {
                  SendError(response, HttpStatusOf(sample.status()), sample.status().message());
                  return;
                }
                SendJson(response, 200, *sample);
              });
  server_.Post(R"(/api/v1/runs/([^/]+)/try)",
               [this](const httplib::Request& request, httplib::Response& response) {
                 TryIt(request, response);
               });
}

// {"sample": <test sample index>} or {"image": "<base64 of a PNG or JPEG file>"}, sent to a
// model server announced for the run.
void DashboardServer::Impl::TryIt(const httplib::Request& request, httplib::Response& response) {
  ServedProject* project = ProjectOf(request, response);
  if (project == nullptr) return;
  const std::string run = request.matches[1].str();
  auto refuse = [&](int status, const std::string& message) {
    spdlog::info("try it on run {} from {}: {} {}", Printable(run), ClientOf(request), status,
                 Printable(message));
    SendError(response, status, message);
  };
  Result<Json> body = BodyOf(request);
  if (!body.ok()) return refuse(400, body.status().message());
  Result<RunModel> model = project->models->Model(run);
  if (!model.ok()) return refuse(HttpStatusOf(model.status()), model.status().message());
  Json instance;
  const bool has_sample = body->is_object() && body->contains("sample");
  const bool has_image = body->is_object() && body->contains("image");
  if (has_sample == has_image) {
    return refuse(400, "send {\"sample\": <test sample index>} or {\"image\": \"<base64>\"}");
  }
  if (has_sample) {
    if (!(*body)["sample"].is_number_integer()) return refuse(400, "\"sample\" is an index");
    Result<Json> values = project->models->SampleInstance(run, (*body)["sample"].get<int64_t>());
    if (!values.ok()) return refuse(HttpStatusOf(values.status()), values.status().message());
    instance = std::move(*values);
  } else {
    if (!IsImageShape(model->input_shape)) {
      return refuse(400, "run " + run + "'s model takes samples of shape " +
                             Json(model->input_shape).dump() + ", not pictures");
    }
    const Json& image = (*body)["image"];
    if (!image.is_string() || !IsBase64(image.get<std::string>())) {
      return refuse(400, "\"image\" is the picture file's bytes in base64");
    }
    instance = {{"b64", image}};
  }
  const ServeAnswer answer = AskModelServer(project->models->Servers(), *model, instance,
                                            project->models->ServeCommand(run));
  spdlog::info("try it on run {} from {}: {}", Printable(run), ClientOf(request),
               answer.http_status);
  SendJson(response, answer.http_status, answer.body);
}

Result<std::unique_ptr<DashboardServer>> DashboardServer::Start(const DashboardOptions& options) {
  if (options.project_folder.empty() && options.home.empty()) {
    return Status::InvalidArgument("give a project folder or a cloudbook home");
  }
  if (!options.project_folder.empty()) {
    const Status moved = MoveLegacyDashboardToken(options.project_folder);
    if (!moved.ok()) spdlog::warn("{}", moved.ToString());
  }
  std::string token;
  if (options.token_required || !IsLoopbackHost(options.listen_address)) {
    CB_ASSIGN_OR_RETURN(token,
                        LoadOrCreateAccessToken(DashboardTokenFile(
                            options.project_folder.empty() ? options.home : options.project_folder,
                            options.project_folder.empty())));
  }
  auto impl = std::make_unique<Impl>(options, std::move(token), DashboardHostName());
  CB_RETURN_IF_ERROR(impl->Bind());
  impl->Serve();
  return std::unique_ptr<DashboardServer>(new DashboardServer(std::move(impl)));
}

DashboardServer::DashboardServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DashboardServer::~DashboardServer() { Stop(); }
int DashboardServer::port() const { return impl_->port_; }
std::string DashboardServer::url() const {
  return impl_->token().empty() ? impl_->url_ : impl_->url_ + "?token=" + impl_->token();
}
const std::string& DashboardServer::token() const { return impl_->token(); }
void DashboardServer::Stop() { impl_->Stop(); }

}  // namespace cloudbook
