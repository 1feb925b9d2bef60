// cloudbook-deployer: assigns the project's deployable units to its live agents
// (distributed/assignment.json) and, with -s, watches liveness and moves the DUs of lost
// agents. Log lines go to standard error.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "deployer/deployer.h"
#include "fs_adapters/open_shared_folder.h"
#include "shared/command_line.h"
#include "shared/loop_events.h"
#include "shared/tunables.h"

int main(int argc, char** argv) {
  if (cloudbook::ReportBadTunables()) return cloudbook::kExitUsage;  // defaults below read it
  cloudbook::InstallSharedFolderBackends();
  using namespace cloudbook;
  CLI::App app{
      "cloudbook-deployer: assign the deployable units made by cloudbook-maker to the live "
      "agents of a project (distributed/assignment.json): DU 0 to agent 0, the others "
      "balancing the expected finishing time (DU cost / agent GFLOP/s). With -s it keeps "
      "watching and moves the DUs of lost agents to live ones."};
  app.footer(std::string("Examples:\n"
                         "  cloudbook-deployer --project-folder ~/cloudbook/fashion\n"
                         "  cloudbook-deployer --project-folder ~/cloudbook/fashion --fast-start "
                         "-s 5\n") +
             ExitCodesHelp());
  DeployerOptions options;
  bool once = false;
  std::string log_level = "info";
  app.add_option("--project-folder,-p", options.project_folder, "The project folder")->required();
  app.add_option("--shared-folder,--distributed-folder", options.shared_folder,
                 "The shared folder: a path, nfs://host[:port]/export/path, an rclone remote or "
                 "sync:///path (default: as <project>/project.json says, else "
                 "<project>/distributed)");
  app.add_flag("--fast-start", options.fast_start,
               "Do not wait for agents to announce themselves: plan as soon as agent 0 is live");
  auto* surveillance =
      app.add_option("-s,--surveillance", options.surveillance_s,
                     "Keep running and check liveness every SECONDS; the DUs of lost agents "
                     "move to live ones. Stops cleanly on SIGINT/SIGTERM")
          ->check(CLI::PositiveNumber);
  app.add_option("--wait", options.wait_s,
                 "Seconds to wait for agents (and for agent 0); default: two announcement "
                 "intervals of distributed/config.json")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--once", once, "Plan once and exit (the default without -s)")
      ->excludes(surveillance);
  AddLogLevelOption(app, log_level);
  if (auto exit_code = ParseCommandLine(app, argc, argv)) return *exit_code;
  spdlog::set_default_logger(spdlog::stderr_color_mt("cloudbook-deployer"));
  spdlog::set_pattern("%H:%M:%S %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(log_level));

  auto signals = SignalEvents::Create();
  if (!signals.ok()) {
    spdlog::error("cannot install signal handlers: {}", signals.status().message());
    return ExitCodeFor(signals.status());
  }
  return RunDeployer(options, &*signals);
}
