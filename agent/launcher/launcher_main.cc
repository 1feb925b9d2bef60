// cloudbook-run: asks the running agent 0 of a project to run the program across the agents,
// shows progress until the composed result is in, prints the summary and leaves the results
// in distributed/results/<run>.json (docs/launcher.md). No libtorch here: it starts at once.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "agent/core/control_channel.h"
#include "agent/launcher/run_progress_view.h"
#include "agent/launcher/run_summary.h"
#include "fs_adapters/open_shared_folder.h"
#include "shared/command_line.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/pid_file.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"
#include "shared/tunables.h"

namespace {

using namespace cloudbook;

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted = true; }

// The run agent 0 (pid `agent_pid`) is writing in `runs_folder`: the newest "running" file
// naming that process; "" when there is none yet.
std::string RunInProgress(const std::string& runs_folder, long agent_pid) {
  std::string newest;
  int64_t newest_started = -1;
  const Result<std::vector<std::string>> names = ListFolder(runs_folder);
  if (!names.ok()) return newest;
  for (const std::string& name : *names) {
    if (name.empty() || name[0] == '.' || name.size() < 6 ||
        name.compare(name.size() - 5, 5, ".json") != 0) {
      continue;
    }
    const Result<Json> run = ReadJsonFile(runs_folder + "/" + name);
    if (!run.ok() || !run->is_object() || run->value("state", std::string()) != "running") {
      continue;
    }
    const Json writer = run->value("agent_0", Json::object());
    if (!writer.is_object() || writer.value("pid", int64_t{0}) != agent_pid) continue;
    const int64_t started = run->value("started", int64_t{0});
    if (started > newest_started) {
      newest_started = started;
      newest = name.substr(0, name.size() - 5);
    }
  }
  return newest;
}

int Fail(int code, const std::string& message) {
  spdlog::error("{}", message);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  if (cloudbook::ReportBadTunables()) return cloudbook::kExitUsage;  // defaults below read it
  cloudbook::InstallSharedFolderBackends();
  spdlog::set_default_logger(spdlog::stderr_color_mt("cloudbook-run"));
  spdlog::set_pattern("%H:%M:%S %^%l%$ %v");

  CLI::App app{
      "cloudbook-run: run the project's deconstructed network on its agents. Agent 0 (which "
      "must be launched on this machine) trains every DU on the agent the deployer gave it, "
      "follows progress, moves work off lost agents, composes the subnets' predictions and "
      "writes distributed/results/<run>.json."};
  app.footer(std::string("Example:\n  cloudbook-run -p ~/cloudbook/fashion\n") + ExitCodesHelp());
  std::string project_folder;
  std::string agent_id = kAgentZeroId;
  std::string run_name;
  std::string progress_mode = "auto";
  double timeout_s = cloudbook::GetTunables().run_timeout_s;
  double assignment_wait_s = cloudbook::GetTunables().run_assignment_wait_s;
  double connect_timeout_s = cloudbook::GetTunables().connect_timeout_s;
  bool baseline = false;
  std::string log_level = "warn";  // progress and the summary are the output; logs for trouble
  app.add_option("--project-folder,-p", project_folder, "The project folder")->required();
  app.add_option("--agent-id", agent_id, "Agent 0's id")->capture_default_str();
  app.add_option("--run-name", run_name,
                 "Name of the run and of its results file (default run-<UTC time>)");
  app.add_option("--timeout", timeout_s, "Seconds the whole run may take")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--assignment-wait", assignment_wait_s,
                 "Seconds to wait for the deployer's assignment")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--connect-timeout", connect_timeout_s, "Seconds to wait for agent 0 to answer")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--baseline", baseline,
               "Afterwards, train the original network on agent 0 and compare it with the "
               "composed result");
  app.add_option("--progress", progress_mode,
                 "auto (redrawn lines on a terminal, plain lines otherwise), plain or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "plain", "none"}));
  cloudbook::AddLogLevelOption(app, log_level);
  if (auto exit_code = cloudbook::ParseCommandLine(app, argc, argv)) return *exit_code;
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (!run_name.empty() && !ValidateAgentId(run_name).ok()) {
    return Fail(kExitUsage,
                "--run-name '" + run_name + "': use 1 to 64 letters, digits, '.', '_' and '-'");
  }

  auto config = ReadAgentConfig(project_folder, agent_id);
  if (!config.ok()) {
    // No agent 0 here yet: not ready; a malformed config: the table's code for its Status.
    const int code = config.status().code() == Status::Code::kNotFound
                         ? kExitUnavailable
                         : ExitCodeFor(config.status());
    return Fail(code, config.status().message() +
                          "\n(create agent 0 on this machine first: cloudbook-agent "
                          "create --project-folder " +
                          project_folder + " --agent-0 --grant HIGH)");
  }
  if (!config->agent_0) {
    return Fail(kExitUnavailable,
                agent_id + " is not agent 0 of this project (see cloudbook-agent list)");
  }
  auto control = ReadControlFile(project_folder, agent_id);
  if (!control.ok()) return Fail(kExitUnavailable, control.status().message());
  // Running means holding its pid file's lock (shared/formats/pid_file.h): a pid in a stale
  // control file may belong to another program by now.
  auto holder = ReadPidFileState(ProjectLayout(project_folder).agent_pid_file(agent_id));
  if (!holder.ok()) return Fail(kExitUnavailable, holder.status().message());
  if (!holder->running || holder->pid != control->pid) {
    return Fail(kExitUnavailable,
                agent_id + " is not running (" +
                    (holder->running ? "it runs as pid " + std::to_string(holder->pid) +
                                           " but has not written its control file yet"
                                     : "no process holds " +
                                           ProjectLayout(project_folder).agent_pid_file(agent_id) +
                                           "; the control file's pid " +
                                           std::to_string(control->pid) + " is not agent 0") +
                    "): launch it with cloudbook-agent launch --project-folder " + project_folder +
                    " --agent-id " + agent_id);
  }
  // One run at a time: the cloudbook-run of the run in progress holds this lock (the kernel
  // drops it when that process dies). Agent 0 would refuse a second run too, but a second
  // launcher never reaches it: both carry agent 0's key and id, and its ROUTER ignores a
  // second connection under an id already connected.
  const std::string lock_path = ProjectLayout(project_folder).launcher_pid_file(agent_id);
  auto run_lock = AcquirePidFile(lock_path);
  if (!run_lock.ok()) return Fail(kExitUnavailable, run_lock.status().message());
  if (!run_lock->lock) {
    const std::string running =
        RunInProgress(ProjectLayout(project_folder, config->shared_folder).runs(), holder->pid);
    return Fail(kExitUnavailable,
                agent_id + " is busy: a run is already in progress (" +
                    (running.empty() ? std::string("its progress file is not written yet")
                                     : "run '" + running + "'") +
                    ", started by cloudbook-run pid " + std::to_string(run_lock->holder_pid) +
                    "): wait for it to end, or cancel it with Ctrl-C in that cloudbook-run");
  }
  auto transport = ConnectControlClient(*config, *control);
  if (!transport.ok()) return Fail(kExitUnavailable, transport.status().message());
  if (!(*transport)
           ->WaitForPeer(kControlPeerId, std::chrono::milliseconds(
                                             static_cast<int64_t>(connect_timeout_s * 1000)))) {
    return Fail(kExitUnavailable, agent_id + " (pid " + std::to_string(control->pid) +
                                      ") does not answer on " + control->endpoint + " after " +
                                      std::to_string(static_cast<int>(connect_timeout_s)) + " s");
  }

  const bool redraw = progress_mode == "auto" && ::isatty(STDOUT_FILENO);
  RunProgressView view(stdout, redraw);
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  WireMessage invoke;
  invoke.header.kind = MessageKind::kInvoke;
  invoke.header.function = "run";
  invoke.header.du = 0;
  invoke.header.arguments = {{"timeout_s", timeout_s}, {"assignment_wait_s", assignment_wait_s}};
  if (!run_name.empty()) invoke.header.arguments["run_name"] = run_name;
  if (baseline) invoke.header.arguments["baseline"] = true;
  const uint64_t request_id = (*transport)->NewRequestId();
  invoke.header.request_id = request_id;

  // Ctrl-C cancels the run on agent 0 (every DU stops; checkpoints stay).
  std::mutex mutex;
  std::condition_variable finished_signal;
  bool finished = false;
  std::thread interrupt_watch([&] {
    std::unique_lock<std::mutex> lock(mutex);
    while (!finished) {
      if (g_interrupted) {
        spdlog::warn("interrupted: cancelling the run on {}", agent_id);
        (void)(*transport)->Cancel(kControlPeerId, request_id);
        return;
      }
      finished_signal.wait_for(lock, cloudbook::GetTunables().cancel_poll_ms);
    }
  });
  // Agent 0 answers when the run ends; a minute more covers its composition and reply.
  const auto call_timeout =
      std::chrono::milliseconds(static_cast<int64_t>((timeout_s + 60) * 1000));
  auto reply =
      (*transport)
          ->Call(kControlPeerId, std::move(invoke), call_timeout, [&](const WireMessage& progress) {
            if (progress_mode != "none") view.OnEvent(progress.header.arguments);
          });
  {
    std::lock_guard<std::mutex> lock(mutex);
    finished = true;
  }
  finished_signal.notify_all();
  interrupt_watch.join();
  view.Finish();
  (*transport)->Stop();

  if (!reply.ok()) {
    const std::string& message = reply.status().message();
    if (g_interrupted) return Fail(kExitInterrupted, "run cancelled: " + message);
    if (message.find("time limit") != std::string::npos ||
        message.find("deadline of") != std::string::npos) {
      return Fail(kExitTimedOut, "run failed: " + message);
    }
    if (reply.status().code() == Status::Code::kNotFound) {
      return Fail(kExitUnavailable, "run failed: " + message);
    }
    return Fail(kExitFailed, "run failed: " + message);
  }
  const std::string results_path = StringArgument(reply->header.arguments, "results_path");
  auto results = ReadJsonFile(results_path);
  if (!results.ok()) {
    return Fail(kExitFailed,
                "the run finished but its results cannot be read: " + results.status().message());
  }
  std::fputs(FormatRunSummary(*results, results_path).c_str(), stdout);
  return kExitOk;
}
