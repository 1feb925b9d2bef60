// cloudbook-serve: a finished run's composed model behind TF Serving's REST API
// (docs/serve.md). --local applies every subnet in this process; distributed mode (run on agent
// 0's machine) lets the project's agents apply their DUs. Announces itself in
// distributed/serve/<host>-<port>.json until SIGINT/SIGTERM.
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>

#include "agent/serve/agents_backend.h"
#include "agent/serve/local_backend.h"
#include "agent/serve/serve_server.h"
#include "fs_adapters/open_shared_folder.h"
#include "shared/command_line.h"
#include "shared/formats/serve_endpoint.h"
#include "shared/http_access.h"
#include "shared/loop_events.h"
#include "shared/nn/model_predictor.h"
#include "shared/project_layout.h"
#include "shared/tunables.h"

namespace {

using namespace cloudbook;

struct ServeCommand {
  std::string project_folder;
  std::string run;
  std::string listen = "127.0.0.1:8760";
  bool local = false;
  bool agents = false;  // distributed only: fail instead of falling back to --local
  std::string agent_id = "agent-0";
  std::string model_name;
  std::string token_file;
  int max_batch = GetTunables().serve_max_batch;
  int max_wait_ms = static_cast<int>(GetTunables().serve_max_wait_ms.count());
};

// The one place the backend is chosen: --local applies the model in this process; --agents
// through the project's agents (agent 0 fans out, agent/serve/agents_backend.h); neither: the
// agents when agent 0 runs on this machine, else this process.
Result<std::unique_ptr<PredictionBackend>> MakeBackend(const ServeCommand& command,
                                                       const RunModel& model) {
  if (command.local) return LocalBackend::Load(model);
  AgentsBackendOptions agents;
  agents.project_folder = command.project_folder;
  agents.agent_id = command.agent_id;
  agents.run = model.run;
  Result<std::unique_ptr<AgentsBackend>> connected = AgentsBackend::Connect(agents);
  if (connected.ok()) return std::unique_ptr<PredictionBackend>(std::move(connected).value());
  if (command.agents) return connected.status();
  spdlog::warn("the project's agents are not serving ({}): applying the model in this process",
               connected.status().message());
  return LocalBackend::Load(model);
}

int Fail(int code, const std::string& message) {
  spdlog::error("{}", message);
  return code;
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  if (ReportBadTunables()) return kExitUsage;  // defaults below read it
  InstallSharedFolderBackends();
  spdlog::set_default_logger(spdlog::stderr_color_mt("cloudbook-serve"));
  spdlog::set_pattern("%H:%M:%S %^%l%$ %v");

  CLI::App app{
      "cloudbook-serve: answer predictions of a finished run's composed model over HTTP, in "
      "TF Serving's REST convention (POST /v1/models/<name>:predict with {\"instances\": "
      "[...]}), batching concurrent requests."};
  app.footer(std::string("Examples:\n"
                         "  cloudbook-serve -p ~/cloudbook/fashion --local\n"
                         "  curl -d '{\"instances\": [[...784 pixel values...]]}' \\\n"
                         "       http://127.0.0.1:8760/v1/models/fashion_mlp:predict\n"
                         "Listening off loopback needs a token (Authorization: Bearer <token>), "
                         "by default the dashboard's, kept in <project>/dashboard/token.json "
                         "(docs/serve.md).\n") +
             ExitCodesHelp());
  app.set_version_flag("--version", std::string("cloudbook-serve ") + CLOUDBOOK_VERSION);
  ServeCommand command;
  std::string shared_folder;
  std::string log_level = "info";
  app.add_option("--project-folder,-p", command.project_folder, "The project folder")->required();
  app.add_option("--run", command.run, "The run whose model to serve (default: the newest)");
  app.add_option("--listen,-l", command.listen,
                 "ADDRESS:PORT to serve on (PORT 0: any free port). Loopback by default; any "
                 "other address requires the token")
      ->capture_default_str();
  auto* local = app.add_flag(
      "--local", command.local,
      "Apply the model in this process (every subnet here). Default: through the project's "
      "agents when agent 0 runs on this machine, else in this process");
  app.add_flag("--agents", command.agents,
               "Serve only through the project's agents (fail when agent 0 is not running)")
      ->excludes(local);
  app.add_option("--agent-id", command.agent_id,
                 "Agent 0's id on this machine, for serving through the agents")
      ->capture_default_str();
  app.add_option("--model-name", command.model_name,
                 "The <name> of /v1/models/<name> (default: the program's name)");
  app.add_option("--token-file", command.token_file,
                 "Require the token in this file ({\"token\": \"...\"}, made when missing); off "
                 "loopback the default is <project>/dashboard/token.json");
  app.add_option("--max-batch", command.max_batch, "Samples run through the model in one call")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--max-wait-ms", command.max_wait_ms,
                 "Milliseconds an incomplete batch waits for more requests")
      ->capture_default_str()
      ->check(CLI::Range(0, 60000));
  app.add_option("--shared-folder,--distributed-folder", shared_folder,
                 "The shared folder (default: as <project>/project.json says, else "
                 "<project>/distributed)");
  AddLogLevelOption(app, log_level);
  if (auto exit_code = ParseCommandLine(app, argc, argv)) return *exit_code;
  spdlog::set_level(spdlog::level::from_str(log_level));

  ServeServerOptions options;
  if (!ParseListenAddress(command.listen, &options.listen_address, &options.port)) {
    return Fail(kExitUsage,
                "--listen " + command.listen + ": expected ADDRESS:PORT, e.g. 127.0.0.1:8760");
  }
  Result<ProjectLayout> layout = OpenProjectLayout(command.project_folder, shared_folder);
  if (!layout.ok()) return Fail(ExitCodeFor(layout.status()), layout.status().message());
  Result<RunModel> model = OpenRunModel(layout->shared(), command.run);
  if (!model.ok()) return Fail(ExitCodeFor(model.status()), model.status().message());
  Result<std::unique_ptr<PredictionBackend>> backend = MakeBackend(command, *model);
  if (!backend.ok()) return Fail(ExitCodeFor(backend.status()), backend.status().message());

  const bool loopback = IsLoopbackHost(options.listen_address);
  if (!loopback || !command.token_file.empty()) {
    const std::string file =
        command.token_file.empty() ? layout->dashboard_token_file() : command.token_file;
    Result<std::string> token = LoadOrCreateAccessToken(file);
    if (!token.ok()) return Fail(ExitCodeFor(token.status()), token.status().message());
    options.token = *token;
    spdlog::info("requests need the token in {}", file);
  }
  options.model_name = command.model_name.empty() ? model->project : command.model_name;
  options.input_scale = ModelInputScale(*model);
  options.batching.max_batch = command.max_batch;
  options.batching.max_wait = std::chrono::milliseconds(command.max_wait_ms);
  options.batching.max_queued_samples =
      static_cast<int64_t>(GetTunables().serve_max_queued_samples);
  options.max_body_bytes = GetTunables().serve_max_body_bytes;
  options.limits.max_json_depth = GetTunables().serve_max_json_depth;
  options.http_threads = GetTunables().serve_http_threads;

  Result<SignalEvents> signals = SignalEvents::Create();
  if (!signals.ok()) return Fail(ExitCodeFor(signals.status()), signals.status().message());
  Result<std::unique_ptr<ServeServer>> server = ServeServer::Start(options, std::move(*backend));
  if (!server.ok()) return Fail(ExitCodeFor(server.status()), server.status().message());
  const std::string mode = (*server)->backend().mode();
  spdlog::info("serving model '{}' (run {}, {} subnets, {} mode) at {}/v1/models/{}{}",
               options.model_name, model->run, model->weights.size(), mode, (*server)->url(),
               options.model_name, (*server)->token_required() ? " (token required)" : "");

  ServeEndpoint endpoint;
  endpoint.url = (*server)->url();
  endpoint.model_name = options.model_name;
  endpoint.run = model->run;
  endpoint.mode = mode;
  endpoint.host = HostName();
  endpoint.port = (*server)->port();
  endpoint.pid = getpid();
  endpoint.token_required = (*server)->token_required();
  const SharedFolderLayout& shared = layout->shared();
  const int announce_ms = static_cast<int>(GetTunables().serve_announce_every_ms.count());
  bool announce_failed = false;
  for (bool stop = false; !stop;) {
    const Status written = WriteServeEndpoint(shared, endpoint);
    if (!written.ok() && !announce_failed) {
      spdlog::warn("cannot announce this server: {}", written.message());
    }
    announce_failed = !written.ok();
    pollfd wait_for_signal{signals->fd(), POLLIN, 0};
    if (poll(&wait_for_signal, 1, announce_ms) < 0 && errno != EINTR) break;
    for (int signal : signals->TakePending()) stop = stop || signal != SIGHUP;
  }
  spdlog::info("stopping");
  const Status removed = RemoveServeEndpoint(shared, endpoint.host, endpoint.port);
  if (!removed.ok()) spdlog::warn("{}", removed.message());
  (*server)->Stop();
  return kExitOk;
}
