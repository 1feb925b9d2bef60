// cloudbook-agent: creates, launches, stops, edits, lists and deletes the agents that lend
// this machine to a project (docs/agent.md).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/filesystem.hpp>
#include <iostream>
#include <optional>

#include "agent/core/agent_commands.h"
#include "agent/core/agent_launch.h"
#include "agent/core/agent_services.h"
#include "agent/core/command_outcome.h"
#include "agent/runtime/agent_call.h"
#include "agent/runtime/agent_node.h"
#include "fs_adapters/open_shared_folder.h"
#include "shared/command_line.h"
#include "shared/exit_codes.h"
#include "shared/formats/agent_listing.h"
#include "shared/formats/announcement.h"
#include "shared/nn/capacity_probe.h"
#include "shared/tunables.h"

namespace {

using cloudbook::CommandOutcome;

cloudbook::AnnouncedCapacity Probe(const cloudbook::GrantLimits& limits) {
  const cloudbook::MeasuredCapacity measured =
      cloudbook::ProbeCapacity(limits.cores, limits.use_gpu);
  cloudbook::AnnouncedCapacity capacity;
  capacity.cores = measured.cores;
  capacity.gflops = measured.gflops;
  capacity.gpu = measured.gpu;
  capacity.gpu_gflops = measured.gpu_gflops;
  return capacity;
}

int Finish(const CommandOutcome& outcome) {
  if (!outcome.ok()) spdlog::error("{}", outcome.message());
  return outcome.exit_code();
}

// Options every subcommand has.
void AddCommon(CLI::App* command, std::string& project_folder, std::string& log_level) {
  command->add_option("--project-folder,-p", project_folder, "The project folder")->required();
  cloudbook::AddLogLevelOption(*command, log_level);
}

CLI::Option* AddAgentId(CLI::App* command, std::string& agent_id) {
  return command->add_option("--agent-id,-a", agent_id, "The agent (see `list`)")->required();
}

constexpr const char* kGrantHelp =
    "What this machine lends: LOW one core, MEDIUM half the cores, HIGH every core and the GPU "
    "(when the build has CUDA)";
constexpr const char* kDeviceHelp =
    "cpu, cuda (needs grant HIGH and a CUDA build) or auto (cuda when both hold, else cpu)";

}  // namespace

int main(int argc, char** argv) {
  if (cloudbook::ReportBadTunables()) return cloudbook::kExitUsage;  // defaults below read it
  cloudbook::InstallSharedFolderBackends();
  spdlog::set_default_logger(spdlog::stderr_color_mt("cloudbook-agent"));
  spdlog::set_pattern("%H:%M:%S %^%l%$ %v");

  CLI::App app{
      "cloudbook-agent: lend this machine to a cloudbook project. An agent is created once "
      "(local config in <project>/agents/<id>.json), then launched in the foreground; it "
      "announces itself in the shared folder and trains the deployable units it is given."};
  app.footer(
      std::string("Examples:\n"
                  "  cloudbook-agent create -p ~/cloudbook/fashion --grant HIGH --agent-0\n"
                  "  cloudbook-agent launch -p ~/cloudbook/fashion --agent-id agent-0\n"
                  "  cloudbook-agent edit -p ~/cloudbook/fashion --agent-id agent-0 --grant LOW\n"
                  "  cloudbook-agent list -p ~/cloudbook/fashion\n") +
      cloudbook::ExitCodesHelp());
  app.require_subcommand(1);

  std::string project_folder;
  std::string log_level = "info";
  std::string agent_id;

  // create
  cloudbook::CreateOptions create;
  CLI::App* create_command =
      app.add_subcommand("create", "Create an agent on this machine; prints its id");
  AddCommon(create_command, project_folder, log_level);
  std::string create_grant, create_device = "auto";
  create_command->add_option("--grant,-g", create_grant, kGrantHelp)
      ->required()
      ->check(CLI::IsMember({"HIGH", "MEDIUM", "LOW"}, CLI::ignore_case));
  create_command->add_flag("--agent-0", create.agent_0,
                           "The project owner's agent (id agent-0, runs DU 0); one per project");
  CLI::Option* port =
      create_command->add_option("--port", create.fixed_port, "Always listen on this TCP port")
          ->check(CLI::Range(1024, 65535));
  create_command
      ->add_option("--base-port", create.base_port,
                   "Listen on the first free port from this one (default 5550)")
      ->check(CLI::Range(1024, 65435))
      ->excludes(port);
  create_command->add_option("--device", create_device, kDeviceHelp)
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  create_command->add_option("--subnet", create.subnet,
                             "Publish the address in this subnet when the machine has several "
                             "(e.g. 10.0.0.0/24)");
  create_command
      ->add_option("--bind-address", create.bind_address,
                   "auto (the published address), 0.0.0.0 (every interface) or an "
                   "IPv4 address of this machine")
      ->capture_default_str();
  create_command->add_option("--shared-folder,--distributed-folder", create.shared_folder,
                             "The shared folder (default <project>/distributed)");
  create_command->add_flag("--plaintext", create.plaintext,
                           "No CURVE encryption or authentication (trusted networks only)");

  // launch
  CLI::App* launch_command = app.add_subcommand(
      "launch",
      "Run an agent in the foreground until SIGTERM or Ctrl-C (SIGHUP re-reads its "
      "config)");
  AddCommon(launch_command, project_folder, log_level);
  AddAgentId(launch_command, agent_id);

  // stop
  double timeout_s = cloudbook::GetTunables().agent_stop_timeout_s;
  CLI::App* stop_command =
      app.add_subcommand("stop", "Stop a launched agent (SIGTERM) and wait for it to exit");
  AddCommon(stop_command, project_folder, log_level);
  AddAgentId(stop_command, agent_id);
  stop_command->add_option("--timeout", timeout_s, "Seconds to wait for the agent to exit")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));

  // edit
  std::string edit_grant, edit_device;
  std::optional<int> edit_port, edit_base_port;
  std::optional<std::string> edit_subnet;
  CLI::App* edit_command = app.add_subcommand(
      "edit", "Change an agent's settings; a running agent applies a new grant at once");
  AddCommon(edit_command, project_folder, log_level);
  AddAgentId(edit_command, agent_id);
  edit_command->add_option("--grant,-g", edit_grant, kGrantHelp)
      ->check(CLI::IsMember({"HIGH", "MEDIUM", "LOW"}, CLI::ignore_case));
  edit_command->add_option("--device", edit_device, kDeviceHelp)
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  edit_command->add_option("--port", edit_port, "Always listen on this port (0: first free)")
      ->check(CLI::Range(0, 65535));
  edit_command->add_option("--base-port", edit_base_port, "First port to try")
      ->check(CLI::Range(1024, 65435));
  edit_command->add_option("--subnet", edit_subnet,
                           "Preferred subnet of the published address (\"\" for none)");

  // list
  bool list_json = false;
  CLI::App* list_command = app.add_subcommand(
      "list", "List the project's agents: created here, or announced in the shared folder");
  AddCommon(list_command, project_folder, log_level);
  list_command->add_flag("--json", list_json, "Print JSON instead of a table");

  // delete
  CLI::App* delete_command =
      app.add_subcommand("delete", "Delete a stopped agent created on this machine");
  AddCommon(delete_command, project_folder, log_level);
  AddAgentId(delete_command, agent_id);

  // call
  cloudbook::AgentCallOptions call;
  bool call_resume = true;
  int64_t call_assignment_version = 0;
  CLI::App* call_command = app.add_subcommand(
      "call",
      "Invoke a DU function (train, predict, status, cancel) on a launched agent, "
      "as the agent --agent-id (it announces itself so the peer accepts its key)");
  AddCommon(call_command, project_folder, log_level);
  AddAgentId(call_command, agent_id);
  call_command->add_option("--peer", call.peer_id, "The agent that runs the function")->required();
  call_command->add_option("--function", call.function, "train, predict, status or cancel")
      ->required();
  call_command->add_option("--du", call.du, "The deployable unit")
      ->required()
      ->check(CLI::Range(0, 100000));
  call_command->add_option("--timeout", call.timeout_s, "Deadline of the call, seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  call_command->add_option("--assignment-version", call_assignment_version,
                           "train: the owner version stored in checkpoints");
  call_command->add_flag("!--no-resume", call_resume, "train: start from zero");

  for (CLI::App* command : app.get_subcommands({})) command->footer(cloudbook::ExitCodesHelp());

  if (auto exit_code = cloudbook::ParseCommandLine(app, argc, argv)) return *exit_code;
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (create_command->parsed()) {
    create.project_folder = project_folder;
    create.grant = *cloudbook::ParseGrant(create_grant);  // checked by the parser
    create.device = *cloudbook::ParseDeviceChoice(create_device);
    create.cuda_available = cloudbook::CudaAvailable();
    std::string id;
    const CommandOutcome outcome = cloudbook::CreateAgent(create, &id);
    if (outcome.ok()) std::cout << id << std::endl;
    return Finish(outcome);
  }
  if (launch_command->parsed()) {
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    cloudbook::AgentNode services;  // transport + DU functions
    cloudbook::LaunchOptions launch;
    launch.project_folder = project_folder;
    launch.agent_id = agent_id;
    launch.cuda_available = cloudbook::CudaAvailable();
    launch.probe_capacity = Probe;
    launch.services = &services;
    return Finish(cloudbook::LaunchAgent(launch));
  }
  if (stop_command->parsed()) {
    return Finish(cloudbook::StopAgent(project_folder, agent_id, timeout_s));
  }
  if (edit_command->parsed()) {
    cloudbook::EditOptions edit;
    edit.project_folder = project_folder;
    edit.agent_id = agent_id;
    if (!edit_grant.empty()) edit.grant = *cloudbook::ParseGrant(edit_grant);
    if (!edit_device.empty()) edit.device = *cloudbook::ParseDeviceChoice(edit_device);
    edit.fixed_port = edit_port;
    edit.base_port = edit_base_port;
    edit.subnet = edit_subnet;
    if (!edit.grant && !edit.device && !edit.fixed_port && !edit.base_port && !edit.subnet) {
      std::cerr << "edit: nothing to change: give --grant, --device, --port, --base-port or "
                   "--subnet (see `cloudbook-agent edit --help`)\n";
      return cloudbook::kExitUsage;
    }
    if (edit.fixed_port && *edit.fixed_port > 0 && *edit.fixed_port < 1024) {
      std::cerr << "edit: --port must be 0 or from 1024 to 65535\n";
      return cloudbook::kExitUsage;
    }
    edit.cuda_available = cloudbook::CudaAvailable();
    std::string note;
    const CommandOutcome outcome = cloudbook::EditAgent(edit, &note);
    if (outcome.ok()) spdlog::info("{}", note);
    return Finish(outcome);
  }
  if (list_command->parsed()) {
    boost::system::error_code error;
    if (!boost::filesystem::is_directory(project_folder, error)) {
      spdlog::error("project folder {} does not exist: check the path", project_folder);
      return cloudbook::kExitInvalidInput;
    }
    const int64_t now = cloudbook::UnixTimeMs();
    const auto entries = cloudbook::ListAgents(project_folder, now);
    if (list_json) {
      std::cout << cloudbook::AgentListJson(entries).dump(2) << std::endl;
    } else {
      std::cout << cloudbook::FormatAgentTable(entries, now) << std::flush;
    }
    return cloudbook::kExitOk;
  }
  if (delete_command->parsed()) {
    return Finish(cloudbook::DeleteAgent(project_folder, agent_id));
  }
  if (call_command->parsed()) {
    call.project_folder = project_folder;
    call.agent_id = agent_id;
    if (call.function == "train") {
      call.arguments = {{"resume", call_resume}, {"assignment_version", call_assignment_version}};
    }
    auto result = cloudbook::CallAgent(call, [](const cloudbook::WireArguments& progress) {
      // "started": a subnet's data and model are ready (no epoch finished yet).
      auto state = progress.find("state");
      const bool started =
          state != progress.end() && cloudbook::FormatWireValue(state->second) == "started";
      std::string line = started ? "started" : "progress";
      for (const auto& [name, value] : progress) {
        line += " " + name + "=" + cloudbook::FormatWireValue(value);
      }
      std::cout << line << std::endl;
    });
    if (!result.ok()) {
      spdlog::error("{}", result.status().message());
      return cloudbook::ExitCodeFor(result.status());
    }
    std::cout << "result";
    for (const auto& [name, value] : result->header.arguments) {
      std::cout << " " << name << "=" << cloudbook::FormatWireValue(value);
    }
    std::cout << std::endl;
    for (const auto& tensor : result->header.tensors) {
      std::string shape;
      for (int64_t d : tensor.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
      std::cout << "tensor " << tensor.name << " " << cloudbook::WireDtypeName(tensor.dtype) << " "
                << shape << " " << tensor.byte_count << " bytes" << std::endl;
    }
    return cloudbook::kExitOk;
  }
  return cloudbook::kExitUsage;
}
