#include "agent/core/agent_commands.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "shared/atomic_file.h"
#include "shared/clock.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/agent_keys.h"
#include "shared/formats/announcement.h"
#include "shared/formats/pid_file.h"
#include "shared/host_address.h"
#include "shared/private_files.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"
#include "shared/shared_folder_mounts.h"

namespace cloudbook {

namespace fs = boost::filesystem;

namespace {

std::string ListHint(const std::string& project_folder) {
  return "`cloudbook-agent list --project-folder " + project_folder + "`";
}

// Why agent 0 cannot be created, or "" when it can.
std::string AgentZeroConflict(const std::string& project_folder, const std::string& shared_folder) {
  std::vector<std::string> problems;
  for (const AgentConfig& config : ReadLocalAgentConfigs(project_folder, &problems)) {
    if (config.agent_0)
      return "agent-0 already exists on this machine (" +
             ProjectLayout(project_folder).agent_config_file(config.id) + ")";
  }
  if (FileExists(ProjectLayout(project_folder).agent_config_file(kAgentZeroId))) {
    return "agent-0 already exists on this machine (" +
           ProjectLayout(project_folder).agent_config_file(kAgentZeroId) + ", unreadable)";
  }
  const std::string announced = SharedFolderLayout(shared_folder).announcement_file(kAgentZeroId);
  if (PathExists(announced)) {
    std::string host;
    auto text = ReadRegularFileBounded(announced, kMaxAnnouncementBytes);
    if (text.ok()) {
      auto announcement = ParseAnnouncement(*text, kAgentZeroId);
      if (announcement.ok()) host = " by host " + announcement->host;
    }
    return "agent-0 was created on another machine: it is announced" + host + " in " + announced +
           " (if that agent no longer exists, delete it there with `cloudbook-agent delete`, or "
           "remove that file)";
  }
  return "";
}

bool IdInUse(const std::string& project_folder, const std::string& shared_folder,
             const std::string& id) {
  return PathExists(ProjectLayout(project_folder).agent_config_file(id)) ||
         PathExists(SharedFolderLayout(shared_folder).announcement_file(id));
}

// The running agent's pid, or a state-conflict outcome when it is not running.
Result<long> RunningPid(const std::string& project_folder, const std::string& id) {
  CB_ASSIGN_OR_RETURN(PidFileState state,
                      ReadPidFileState(ProjectLayout(project_folder).agent_pid_file(id)));
  return state.running ? state.pid : 0;
}

int PidfdOpen(long pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

CommandOutcome CreateAgent(const CreateOptions& options, std::string* created_id) {
  const std::string& project = options.project_folder;
  boost::system::error_code error;
  if (!fs::is_directory(project, error)) {
    return CommandOutcome::FromStatus(
        Status::InvalidArgument("project folder " + project +
                                " does not exist: create it (cloudbook-maker makes one "
                                "from original/) or check the path"));
  }
  std::string distributed =
      options.shared_folder.empty() ? ProjectSharedFolder(project) : options.shared_folder;
  if (!IsRemoteLocation(distributed)) {
    distributed = fs::absolute(distributed).lexically_normal().string();
  }
  while (distributed.size() > 1 && distributed.back() == '/') distributed.pop_back();
  const Status reachable = MountSharedFolder(distributed);
  const Result<SharedFileInfo> info =
      reachable.ok() ? StatPath(distributed) : Result<SharedFileInfo>(reachable);
  if (!info.ok() || !info->exists || !info->is_folder) {
    spdlog::warn(
        "the shared folder {} is not reachable yet ({}): mount, sync or create it "
        "before launching this agent",
        distributed, info.ok() ? "no such folder" : info.status().message());
  }
  if (!options.subnet.empty()) {
    auto subnet = ParseIpv4Network(options.subnet);
    if (!subnet.ok()) return CommandOutcome::FromStatus(subnet.status());
  }
  Status bind = ValidateBindAddress(options.bind_address);
  if (!bind.ok()) return CommandOutcome::FromStatus(bind);
  auto limits =
      ComputeGrantLimits(options.grant, options.device, MachineCores(), options.cuda_available);
  if (!limits.ok()) return CommandOutcome::FromStatus(limits.status());

  AgentConfig config;
  if (options.agent_0) {
    const std::string conflict = AgentZeroConflict(project, distributed);
    if (!conflict.empty()) {
      return CommandOutcome::FromStatus(Status::InvalidArgument(
          conflict + "; a project has one agent 0 (see " + ListHint(project) + ")"));
    }
    config.id = kAgentZeroId;
  } else {
    for (int attempt = 0; attempt < 20 && config.id.empty(); ++attempt) {
      const std::string id = GenerateAgentId();
      if (!IdInUse(project, distributed, id)) config.id = id;
    }
    if (config.id.empty()) {
      return CommandOutcome::FromStatus(Status::Internal("cannot find an unused agent id"));
    }
  }
  config.grant = options.grant;
  config.agent_0 = options.agent_0;
  config.created = UtcNowIso8601();
  config.shared_folder = distributed;
  config.base_port = options.base_port;
  config.fixed_port = options.fixed_port;
  config.bind_address = options.bind_address;
  config.subnet = options.subnet;
  config.device = options.device;
  config.plaintext = options.plaintext;
  if (!CurveAvailable() && !options.plaintext) {
    return CommandOutcome::FromStatus(Status::Internal(
        "this libzmq has no CURVE security: install Debian's libzmq5 (built with libsodium), "
        "or create the agent with --plaintext (no encryption, trusted networks only)"));
  }
  if (CurveAvailable()) {
    auto curve = GenerateCurveKeyPair();
    if (!curve.ok()) return CommandOutcome::FromStatus(curve.status());
    config.curve = *curve;
  }
  auto signing = GenerateSigningKeyPair();
  if (!signing.ok()) return CommandOutcome::FromStatus(signing.status());
  config.signing = *signing;

  Status written = WritePrivateFileExclusively(ProjectLayout(project).agent_config_file(config.id),
                                               ToJson(config).dump(2) + "\n");
  if (!written.ok()) {
    if (written.code() == Status::Code::kInvalidArgument) {  // created concurrently
      return CommandOutcome::FromStatus(Status::InvalidArgument(
          written.message() + ": another create just made this agent (see " + ListHint(project) +
          ")"));
    }
    return CommandOutcome::FromStatus(written);
  }
  if (options.plaintext) {
    spdlog::warn(
        "agent {} is in PLAIN-TEXT mode: its traffic is neither encrypted nor "
        "authenticated; use it only on a trusted network",
        config.id);
  }
  spdlog::info("created agent {} (grant {}: {} of {} cores, device {}) in {}", config.id,
               GrantName(config.grant), limits->cores, MachineCores(), limits->device,
               ProjectLayout(project).agent_config_file(config.id));
  if (created_id) *created_id = config.id;
  return CommandOutcome::Ok();
}

CommandOutcome EditAgent(const EditOptions& options, std::string* note) {
  auto config = ReadAgentConfig(options.project_folder, options.agent_id);
  if (!config.ok()) return CommandOutcome::FromStatus(config.status());
  if (options.grant) config->grant = *options.grant;
  if (options.device) config->device = *options.device;
  if (options.fixed_port) config->fixed_port = *options.fixed_port;
  if (options.base_port) config->base_port = *options.base_port;
  if (options.subnet) {
    if (!options.subnet->empty()) {
      auto subnet = ParseIpv4Network(*options.subnet);
      if (!subnet.ok()) return CommandOutcome::FromStatus(subnet.status());
    }
    config->subnet = *options.subnet;
  }
  if (options.grant || options.device) {
    auto limits =
        ComputeGrantLimits(config->grant, config->device, MachineCores(), options.cuda_available);
    if (!limits.ok()) return CommandOutcome::FromStatus(limits.status());
  }
  Status written = WriteAgentConfig(options.project_folder, *config);
  if (!written.ok()) return CommandOutcome::FromStatus(written);

  auto pid = RunningPid(options.project_folder, config->id);
  if (!pid.ok()) return CommandOutcome::FromStatus(pid.status());
  std::string what = "saved " + ProjectLayout(options.project_folder).agent_config_file(config->id);
  if (*pid > 0) {
    if (::kill(static_cast<pid_t>(*pid), SIGHUP) != 0) {
      return CommandOutcome::FromStatus(Status::IoError(
          "saved the config, but cannot signal the running agent (pid " + std::to_string(*pid) +
          "): " + std::strerror(errno) + "; restart it with `cloudbook-agent stop` and `launch`"));
    }
    what += "; the running agent (pid " + std::to_string(*pid) +
            ") applies the grant and device now (ports and subnet at its next launch)";
  } else {
    what += "; the agent is not running: it uses the new settings at its next launch";
  }
  if (note) *note = what;
  return CommandOutcome::Ok();
}

CommandOutcome DeleteAgent(const std::string& project_folder, const std::string& agent_id) {
  auto config = ReadAgentConfig(project_folder, agent_id);
  if (!config.ok()) return CommandOutcome::FromStatus(config.status());
  auto pid = RunningPid(project_folder, agent_id);
  if (!pid.ok()) return CommandOutcome::FromStatus(pid.status());
  if (*pid > 0) {
    return CommandOutcome::StateConflict(
        "agent " + agent_id + " is running (pid " + std::to_string(*pid) +
        "): stop it first with `cloudbook-agent stop --project-folder " + project_folder +
        " --agent-id " + agent_id + "`");
  }
  // Its own shared files, only when they are really its own (signed with its key).
  for (const std::string& path :
       {SharedFolderLayout(config->shared_folder).announcement_file(agent_id),
        SharedFolderLayout(config->shared_folder).stats_file(agent_id)}) {
    if (!PathExists(path)) continue;
    if (path == SharedFolderLayout(config->shared_folder).announcement_file(agent_id)) {
      auto text = ReadRegularFileBounded(path, kMaxAnnouncementBytes);
      auto announcement =
          text.ok() ? ParseAnnouncement(*text, agent_id) : Result<Announcement>(text.status());
      if (!announcement.ok() || announcement->signing_public_key != config->signing.public_key) {
        spdlog::warn("left {}: it was not written by this agent (not signed with its key)", path);
        continue;
      }
    }
    const Status removed = RemovePath(path);
    if (!removed.ok() && removed.code() != Status::Code::kNotFound) {
      spdlog::warn("cannot remove {}: {}", path, removed.message());
    }
  }
  ::unlink(ProjectLayout(project_folder).agent_pid_file(agent_id).c_str());  // a stale one, if any
  const std::string local = ProjectLayout(project_folder).agent_config_file(agent_id);
  if (::unlink(local.c_str()) != 0) {
    return CommandOutcome::FromStatus(
        Status::IoError("cannot remove " + local + ": " + std::strerror(errno)));
  }
  spdlog::info("deleted agent {}", agent_id);
  return CommandOutcome::Ok();
}

CommandOutcome StopAgent(const std::string& project_folder, const std::string& agent_id,
                         double timeout_s) {
  auto config = ReadAgentConfig(project_folder, agent_id);
  if (!config.ok()) return CommandOutcome::FromStatus(config.status());
  auto pid = RunningPid(project_folder, agent_id);
  if (!pid.ok()) return CommandOutcome::FromStatus(pid.status());
  const auto not_running = [&] {
    return CommandOutcome::StateConflict("agent " + agent_id +
                                         " is not running (nothing to stop); start it with "
                                         "`cloudbook-agent launch`");
  };
  if (*pid <= 0) return not_running();

  // A pidfd pins the process: no signal can reach another process that reused the pid, and
  // it becomes readable when the process ends (no polling).
  const int pidfd = PidfdOpen(*pid);
  if (pidfd < 0 && errno == ESRCH) return not_running();
  auto again = RunningPid(project_folder, agent_id);  // still that agent, after the pidfd?
  if (!again.ok() || *again != *pid) {
    if (pidfd >= 0) ::close(pidfd);
    return not_running();
  }
  const int sent =
      pidfd >= 0 ? static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, nullptr, 0))
                 : ::kill(static_cast<pid_t>(*pid), SIGTERM);
  if (sent != 0) {
    const int error = errno;
    if (pidfd >= 0) ::close(pidfd);
    if (error == ESRCH) return not_running();
    return CommandOutcome::FromStatus(Status::IoError("cannot signal agent " + agent_id + " (pid " +
                                                      std::to_string(*pid) +
                                                      "): " + std::strerror(error)));
  }
  spdlog::info("sent SIGTERM to agent {} (pid {}); waiting up to {} s", agent_id, *pid, timeout_s);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(timeout_s));
  bool exited = false;
  while (!exited) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) break;
    if (pidfd >= 0) {
      pollfd fd = {pidfd, POLLIN, 0};
      const int ready = ::poll(&fd, 1, static_cast<int>(left));
      if (ready < 0 && errno == EINTR) continue;
      exited = ready > 0;
      if (ready <= 0) break;
    } else {  // kernels before 5.3: check every 100 ms
      exited = !ProcessExists(*pid);
      if (!exited)
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long>(100, left)));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  if (!exited) {
    return CommandOutcome::StateConflict(
        "agent " + agent_id + " (pid " + std::to_string(*pid) + ") did not stop within " +
        fmt::format("{:g}", timeout_s) +
        " s (it may be checkpointing an epoch): wait and run stop again with a longer --timeout, "
        "or end it with `kill -KILL " +
        std::to_string(*pid) + "`");
  }
  spdlog::info("agent {} stopped", agent_id);
  return CommandOutcome::Ok();
}

}  // namespace cloudbook
