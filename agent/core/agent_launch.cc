#include "agent/core/agent_launch.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>

#include "agent/core/port_reservation.h"
#include "agent/core/stats_writer.h"
#include "shared/atomic_file.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/pid_file.h"
#include "shared/host_address.h"
#include "shared/loop_events.h"
#include "shared/private_files.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"
#include "shared/shared_folder_mounts.h"

namespace cloudbook {

namespace {

using Clock = std::chrono::steady_clock;

Clock::duration Seconds(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

std::string DescribeLimits(Grant grant, const GrantLimits& limits) {
  return GrantName(grant) + ": " + std::to_string(limits.cores) +
         (limits.cores == 1 ? " core" : " cores") + ", device " + limits.device;
}

// The sequence of this agent's previous announcement, so that sequences keep growing across
// restarts (observers look for a new sequence); 0 when there is none we wrote.
uint64_t PreviousSequence(const AgentConfig& config) {
  auto text = ReadRegularFileBounded(
      SharedFolderLayout(config.shared_folder).announcement_file(config.id), kMaxAnnouncementBytes);
  if (!text.ok()) return 0;
  auto previous = ParseAnnouncement(*text, config.id);
  if (!previous.ok() || previous->signing_public_key != config.signing.public_key) return 0;
  return previous->sequence;
}

class AgentRunner {
 public:
  AgentRunner(const LaunchOptions& options, AgentServices& services)
      : options_(options), services_(services) {}

  CommandOutcome Run();

 private:
  CommandOutcome Prepare();
  // Returns when a stop signal arrives (ok) or poll fails.
  Status Loop();
  void Reload();
  Status Announce(AgentRunState state);
  void WriteStats();
  AnnouncedCapacity Probe(const GrantLimits& limits) const;

  const LaunchOptions& options_;
  AgentServices& services_;
  std::optional<SignalEvents> signals_;
  std::optional<WakeupEvent> wakeup_;
  std::optional<PidFileLock> pid_lock_;
  std::optional<StatsWriter> stats_;
  AgentConfig config_;
  ProjectConfig project_;
  GrantLimits limits_;
  AnnouncedCapacity capacity_;
  PortReservation port_;
  std::string bind_ip_;
  std::string endpoint_;
  std::string host_;
  uint64_t sequence_ = 0;
  AgentRunState state_ = AgentRunState::kStarting;
};

AnnouncedCapacity AgentRunner::Probe(const GrantLimits& limits) const {
  if (options_.probe_capacity) return options_.probe_capacity(limits);
  AnnouncedCapacity capacity;
  capacity.cores = limits.cores;
  return capacity;
}

CommandOutcome AgentRunner::Prepare() {
  const std::string& project = options_.project_folder;
  auto config = ReadAgentConfig(project, options_.agent_id);
  if (!config.ok()) return CommandOutcome::FromStatus(config.status());
  config_ = std::move(*config);

  auto attempt = AcquirePidFile(ProjectLayout(project).agent_pid_file(config_.id));
  if (!attempt.ok()) return CommandOutcome::FromStatus(attempt.status());
  if (!attempt->lock) {
    const std::string pid =
        attempt->holder_pid > 0 ? " (pid " + std::to_string(attempt->holder_pid) + ")" : "";
    return CommandOutcome::StateConflict("agent " + config_.id + " is already running" + pid +
                                         ": stop it first with "
                                         "`cloudbook-agent stop --project-folder " +
                                         project + " --agent-id " + config_.id + "`");
  }
  pid_lock_.emplace(std::move(*attempt->lock));

  const Status reachable = MountSharedFolder(config_.shared_folder);
  if (!reachable.ok()) {
    return CommandOutcome::FromStatus(
        Status::IoError("the shared folder " + config_.shared_folder + " cannot be opened (" +
                        reachable.message() + "): check the server or remote, then launch again"));
  }
  const Result<SharedFileInfo> info = StatPath(config_.shared_folder);
  if (!info.ok() || !info->exists || !info->is_folder) {
    return CommandOutcome::FromStatus(Status::IoError(
        "the shared folder " + config_.shared_folder +
        " does not exist: mount or sync it on this machine (or run cloudbook-maker), then "
        "launch again"));
  }
  auto project_config =
      LoadProjectConfigOrDefaults(SharedFolderLayout(config_.shared_folder).config_file());
  if (!project_config.ok()) return CommandOutcome::FromStatus(project_config.status());
  project_ = *project_config;

  auto limits =
      ComputeGrantLimits(config_.grant, config_.device, MachineCores(), options_.cuda_available);
  if (!limits.ok()) {
    return CommandOutcome::FromStatus(limits.status().WithContext(
        "agent " + config_.id + " (change it with `cloudbook-agent edit`)"));
  }
  limits_ = *limits;

  auto address = ChoosePublishedAddress(config_.subnet);
  if (!address.ok()) return CommandOutcome::FromStatus(address.status());
  std::string published = address->address;
  if (config_.bind_address == "auto") {
    bind_ip_ = published;
  } else {
    bind_ip_ = config_.bind_address;
    if (bind_ip_ != "0.0.0.0") published = bind_ip_;
  }
  if (published == address->address) {
    if (address->loopback_fallback || address->network_unmatched) {
      spdlog::warn("published address {}: {}", published, address->reason);
    } else {
      spdlog::info("published address {}: {}", published, address->reason);
    }
  }
  auto port = ReservePort(bind_ip_, config_.fixed_port, config_.base_port);
  if (!port.ok()) return CommandOutcome::FromStatus(port.status());
  port_ = std::move(*port);
  endpoint_ = "tcp://" + published + ":" + std::to_string(port_.port());
  host_ = HostName();

  capacity_ = Probe(limits_);
  sequence_ = PreviousSequence(config_);

  auto wakeup = WakeupEvent::Create();
  if (!wakeup.ok()) return CommandOutcome::FromStatus(wakeup.status());
  wakeup_.emplace(std::move(*wakeup));
  return CommandOutcome::Ok();
}

Status AgentRunner::Announce(AgentRunState state) {
  state_ = state;
  Announcement announcement;
  announcement.id = config_.id;
  announcement.grant = config_.grant;
  announcement.host = host_;
  announcement.endpoint = endpoint_;
  announcement.curve_public_key = config_.plaintext ? "" : config_.curve.public_key;
  announcement.signing_public_key = config_.signing.public_key;
  announcement.plaintext = config_.plaintext;
  announcement.capacity = capacity_;
  announcement.capacity.gflops = std::round(capacity_.gflops * 100) / 100;
  announcement.capacity.gpu_gflops = std::round(capacity_.gpu_gflops * 100) / 100;
  announcement.sequence = ++sequence_;
  announcement.time_ms = UnixTimeMs();
  announcement.announce_interval_s = project_.announce_interval_s;
  announcement.pid = ::getpid();
  announcement.status = state;
  announcement.dus = state == AgentRunState::kRunning ? services_.Dus() : std::vector<int>{};
  Status status =
      WriteAnnouncement(config_.shared_folder, announcement, config_.signing.secret_key);
  if (status.ok()) {
    spdlog::debug("announced {} (sequence {})", AgentRunStateName(state), sequence_);
  }
  return status;
}

void AgentRunner::WriteStats() {
  Status status = stats_->Write(services_.Progress(), services_.PeerLiveness());
  if (!status.ok()) spdlog::warn("cannot write stats (will retry): {}", status.message());
}

void AgentRunner::Reload() {
  spdlog::info("SIGHUP: re-reading {}",
               ProjectLayout(options_.project_folder).agent_config_file(config_.id));
  auto project_config =
      LoadProjectConfigOrDefaults(SharedFolderLayout(config_.shared_folder).config_file());
  if (project_config.ok()) {
    project_ = *project_config;
  } else {
    spdlog::error("{}; keeping the previous intervals", project_config.status().message());
  }
  auto fresh = ReadAgentConfig(options_.project_folder, config_.id);
  if (!fresh.ok()) {
    spdlog::error("{}; keeping the previous settings", fresh.status().message());
    return;
  }
  if (fresh->grant != config_.grant || fresh->device != config_.device) {
    auto limits =
        ComputeGrantLimits(fresh->grant, fresh->device, MachineCores(), options_.cuda_available);
    if (!limits.ok()) {
      spdlog::error("{}; keeping grant {}", limits.status().message(),
                    DescribeLimits(config_.grant, limits_));
    } else {
      config_.grant = fresh->grant;
      config_.device = fresh->device;
      limits_ = *limits;
      capacity_ = Probe(limits_);
      services_.ApplyLimits(limits_);
      spdlog::info("grant now {} ({:.1f} GFLOP/s)", DescribeLimits(config_.grant, limits_),
                   capacity_.gflops);
    }
  }
  if (fresh->base_port != config_.base_port || fresh->fixed_port != config_.fixed_port ||
      fresh->bind_address != config_.bind_address || fresh->subnet != config_.subnet ||
      fresh->shared_folder != config_.shared_folder || fresh->plaintext != config_.plaintext ||
      fresh->curve.public_key != config_.curve.public_key ||
      fresh->signing.public_key != config_.signing.public_key) {
    spdlog::warn("port, address, folder or key changes take effect at the next launch");
  }
}

Status AgentRunner::Loop() {
  auto next_announce = Clock::now() + Seconds(project_.announce_interval_s);
  auto next_stats = Clock::now() + Seconds(project_.stats_interval_s);
  bool stop = false;
  while (!stop) {
    const auto now = Clock::now();
    const auto wait = std::max(Clock::duration::zero(), std::min(next_announce, next_stats) - now);
    // Round up: waking a little late is fine, waking early would spin until the deadline.
    const auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    pollfd fds[2] = {{signals_->fd(), POLLIN, 0}, {wakeup_->fd(), POLLIN, 0}};
    const int ready =
        ::poll(fds, 2, static_cast<int>(std::min<int64_t>(wait_ms, 24 * 3600 * 1000)));
    if (ready < 0 && errno != EINTR) {
      return Status::Internal(std::string("the agent's event loop failed (poll: ") +
                              std::strerror(errno) + "); launch it again");
    }
    bool announce_now = false;
    if (ready > 0 && (fds[0].revents & POLLIN)) {
      for (const int signal : signals_->TakePending()) {
        if (signal == SIGHUP) {
          const double announce_interval = project_.announce_interval_s;
          const double stats_interval = project_.stats_interval_s;
          Reload();
          if (project_.announce_interval_s != announce_interval ||
              project_.stats_interval_s != stats_interval) {
            next_stats = Clock::now() + Seconds(project_.stats_interval_s);
          }
          announce_now = true;
        } else {
          spdlog::info("{}: stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
          stop = true;
        }
      }
    }
    if (stop) break;
    if (ready > 0 && (fds[1].revents & POLLIN) && wakeup_->Drain()) announce_now = true;
    if (Clock::now() >= next_stats) {
      WriteStats();
      next_stats += Seconds(project_.stats_interval_s);
      // Fell behind (a slow shared folder): skip the missed slots instead of catching up.
      if (next_stats <= Clock::now())
        next_stats = Clock::now() + Seconds(project_.stats_interval_s);
    }
    if (announce_now || Clock::now() >= next_announce) {
      Status status = Announce(AgentRunState::kRunning);
      if (!status.ok()) spdlog::warn("cannot announce (will retry): {}", status.message());
      next_announce = Clock::now() + Seconds(project_.announce_interval_s);
    }
  }
  return Status::Ok();
}

CommandOutcome AgentRunner::Run() {
  Status id = ValidateAgentId(options_.agent_id);
  if (!id.ok()) return CommandOutcome::FromStatus(id);
  // First, before the pid file tells `edit` and `stop` whom to signal: from here SIGHUP,
  // SIGTERM and SIGINT wait in the self-pipe instead of killing us.
  auto signals = SignalEvents::Create();
  if (!signals.ok()) return CommandOutcome::FromStatus(signals.status());
  signals_.emplace(std::move(*signals));

  CommandOutcome prepared = Prepare();
  if (!prepared.ok()) return prepared;

  if (config_.plaintext) {
    spdlog::warn(
        "PLAIN-TEXT MODE: this agent's traffic is neither encrypted nor authenticated; "
        "use it only on a trusted network (recreate the agent without --plaintext)");
  }
  Status status = Announce(AgentRunState::kStarting);
  if (!status.ok()) {
    return CommandOutcome::FromStatus(
        status.WithContext("cannot announce agent " + config_.id + " in the shared folder " +
                           config_.shared_folder + " (check that it is mounted and writable)"));
  }

  // HOOK: the transport and the DU runtime start here (agent_services.h).
  AgentServicesContext context;
  context.project_folder = options_.project_folder;
  context.config = config_;
  context.project = project_;
  context.limits = limits_;
  context.bind_ip = bind_ip_;
  context.published_endpoint = endpoint_;
  context.port = &port_;
  const WakeupEvent* wakeup = &*wakeup_;
  context.request_announce = [wakeup] { wakeup->Notify(); };
  status = services_.Start(context);
  if (!status.ok()) {
    Announce(AgentRunState::kStopping);
    return CommandOutcome::FromStatus(status.WithContext("cannot start agent " + config_.id));
  }

  stats_.emplace(config_.shared_folder, config_.id);
  status = Announce(AgentRunState::kRunning);
  if (!status.ok()) spdlog::warn("cannot announce (will retry): {}", status.message());
  spdlog::info("agent {} running (pid {}), grant {}, {:.1f} GFLOP/s{}, endpoint {}", config_.id,
               ::getpid(), DescribeLimits(config_.grant, limits_), capacity_.gflops,
               capacity_.gpu.empty() ? "" : ", GPU " + capacity_.gpu, endpoint_);

  const Status loop = Loop();

  status = Announce(AgentRunState::kStopping);
  if (!status.ok()) spdlog::warn("cannot announce stopping: {}", status.message());
  services_.Stop();  // HOOK: finish or checkpoint the epoch, say goodbye to peers
  port_.Release();
  pid_lock_->Remove();
  if (!loop.ok()) return CommandOutcome::FromStatus(loop);
  spdlog::info("agent {} stopped", config_.id);
  return CommandOutcome::Ok();
}

}  // namespace

CommandOutcome LaunchAgent(const LaunchOptions& options) {
  NullAgentServices null_services;
  AgentServices& services = options.services ? *options.services : null_services;
  AgentRunner runner(options, services);
  return runner.Run();
}

}  // namespace cloudbook
