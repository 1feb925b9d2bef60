// cloudbook-dashboard: a web page over one project (docs/dashboard.md): the agents of every
// machine, live statistics, training curves, past results, and buttons that create, launch,
// stop, regrant and remove this machine's agents.
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/filesystem.hpp>
#include <iostream>

#include "dashboard/access_policy.h"
#include "dashboard/dashboard_server.h"
#include "fs_adapters/open_shared_folder.h"
#include "shared/atomic_file.h"
#include "shared/command_line.h"
#include "shared/http_access.h"
#include "shared/loop_events.h"
#include "shared/tunables.h"

int main(int argc, char** argv) {
  if (cloudbook::ReportBadTunables()) return cloudbook::kExitUsage;  // defaults below read it
  cloudbook::InstallSharedFolderBackends();
  using namespace cloudbook;
  CLI::App app{
      "cloudbook-dashboard: see and steer a cloudbook project from a browser: agents of every "
      "machine (status, grant, DUs, endpoint, last seen), live CPU, memory and network charts "
      "per machine and per agent, per-DU training curves and progress, results of past runs; "
      "buttons add, launch, stop, regrant and remove this machine's agents."};
  app.footer(
      std::string(
          "Examples:\n"
          "  cloudbook-dashboard -p ~/cloudbook/fashion                 # http://127.0.0.1:8750/\n"
          "  cloudbook-dashboard -p ~/cloudbook/fashion --listen 0.0.0.0:8750   # needs the token\n"
          "  cloudbook-dashboard --home ~/cloudbook                     # every project there\n"
          "Binding a non-loopback address needs a token: it is printed at start and kept in "
          "<project>/dashboard/token.json; open the printed URL (it carries ?token=).\n") +
      ExitCodesHelp());
  DashboardOptions options;
  std::string listen = "127.0.0.1:8750";
  std::string port_file;
  std::string log_level = "info";
  app.add_option("--project-folder,-p", options.project_folder,
                 "The project folder (the page opens on it)");
  app.add_option("--home", options.home,
                 "Also serve every project folder in this cloudbook home, e.g. ~/cloudbook (the "
                 "page has a project picker); without -p the page opens on its first project");
  app.add_option("--listen,-l", listen,
                 "ADDRESS:PORT to serve on (PORT 0: any free port). Loopback by default; any "
                 "other address requires the token")
      ->capture_default_str();
  app.add_option("--shared-folder,--distributed-folder", options.shared_folder_override,
                 "The shared folder (default: as <project>/project.json says, else "
                 "<project>/distributed)");
  app.add_option("--refresh", options.refresh_s,
                 "Seconds between two reads of the shared folder (the page follows)")
      ->capture_default_str()
      ->check(CLI::Range(0.2, 60.0));
  app.add_flag("--token-required", options.token_required,
               "Require the token on loopback too (a machine shared with other users; another "
               "machine's page calling this one)");
  app.add_option("--port-file", port_file,
                 "Write the port listened on to this file (useful with --listen ...:0)");
  app.add_option("--chart-js", options.chart_js, "Chart.js UMD build to serve")
      ->capture_default_str();
  cloudbook::AddLogLevelOption(app, log_level);
  if (auto exit_code = cloudbook::ParseCommandLine(app, argc, argv)) return *exit_code;
  spdlog::set_default_logger(spdlog::stderr_color_mt("cloudbook-dashboard"));
  spdlog::set_pattern("%H:%M:%S %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (!ParseListenAddress(listen, &options.listen_address, &options.port)) {
    spdlog::error("--listen {}: expected ADDRESS:PORT, e.g. 127.0.0.1:8750", listen);
    return kExitUsage;
  }
  if (options.project_folder.empty() && options.home.empty()) {
    spdlog::error("give --project-folder P, or --home H to serve every project in H");
    return kExitUsage;
  }
  boost::system::error_code error;
  for (std::string* folder : {&options.project_folder, &options.home}) {
    if (folder->empty()) continue;
    if (!boost::filesystem::is_directory(*folder, error)) {
      spdlog::error("no folder {}: make a project with cloudbook-maker", *folder);
      return kExitInvalidInput;
    }
    *folder = boost::filesystem::absolute(*folder).lexically_normal().string();
    while (folder->size() > 1 && folder->back() == '/') folder->pop_back();
  }

  auto signals = SignalEvents::Create();
  if (!signals.ok()) {
    spdlog::error("cannot install signal handlers: {}", signals.status().message());
    return ExitCodeFor(signals.status());
  }
  Result<std::unique_ptr<DashboardServer>> server = DashboardServer::Start(options);
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return ExitCodeFor(server.status());
  }
  if (!port_file.empty()) {
    const Status written = WriteFileAtomically(port_file, std::to_string((*server)->port()) + "\n");
    if (!written.ok()) {
      spdlog::error("--port-file: {}", written.message());
      return ExitCodeFor(written);
    }
  }
  std::cout << "cloudbook-dashboard: " << (*server)->url() << std::endl;
  if (!(*server)->token().empty()) {
    spdlog::info(
        "token {} (kept in {})", (*server)->token(),
        DashboardTokenFile(options.project_folder.empty() ? options.home : options.project_folder,
                           options.project_folder.empty()));
  }
  spdlog::info("serving {} on {}; Ctrl-C stops",
               options.project_folder.empty() ? options.home : options.project_folder,
               (*server)->url());
  for (;;) {
    pollfd wait_for_signal{signals->fd(), POLLIN, 0};
    if (poll(&wait_for_signal, 1, -1) < 0 && errno != EINTR) break;
    bool stop = false;
    for (int signal : signals->TakePending()) stop = stop || signal != SIGHUP;
    if (stop) break;
  }
  spdlog::info("stopping");
  (*server)->Stop();
  return kExitOk;
}
