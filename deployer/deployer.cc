#include "deployer/deployer.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "deployer/agent_liveness.h"
#include "deployer/assignment_planner.h"
#include "deployer/lease_keeper.h"
#include "deployer/once_log.h"
#include "deployer/peer_reports.h"
#include "deployer/started_dus.h"
#include "shared/atomic_file.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/announcement.h"
#include "shared/formats/assignment.h"
#include "shared/formats/checkpoint_header.h"
#include "shared/formats/du_files.h"
#include "shared/formats/project_config.h"
#include "shared/loop_events.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"
#include "shared/text.h"
#include "shared/tunables.h"

namespace cloudbook {

namespace {

constexpr int kStopped = -1;  // internal: asked to stop while waiting
// Timings: deployer_progress_every_s, deployer_observe_every_s and quiet_intervals in
// shared/tunables_def.h.

// "a, b" or "none", for log lines.
std::string JoinOrNone(const std::vector<std::string>& items) {
  return items.empty() ? "none" : Join(items);
}

// The version of an assignment file that no longer parses, when its "version" still reads:
// the fresh plan that replaces it continues from there, so agents never see a version go
// backwards.
int64_t SalvageVersion(const std::string& shared_folder) {
  auto text = ReadRegularFileBounded(AssignmentPath(shared_folder), kMaxAssignmentBytes);
  if (!text.ok()) return 0;
  auto json = ParseJsonText(*text, "assignment.json");
  if (!json.ok() || !json->is_object()) return 0;
  const auto version = json->find("version");
  if (version == json->end() || !version->is_number_integer()) return 0;
  return std::max<int64_t>(0, version->get<int64_t>());
}

// ReadAnnouncements logs every ignored file at each call; the deployer looks several times a
// second, so it silences that and logs each ignored file once itself (OnceLog).
AnnouncementScan ReadAnnouncementsQuietly(const std::string& shared_folder,
                                          const std::map<std::string, std::string>& pinned) {
  const spdlog::level::level_enum level = spdlog::get_level();
  spdlog::set_level(std::max(level, spdlog::level::err));
  AnnouncementScan scan = ReadAnnouncements(shared_folder, pinned);
  spdlog::set_level(level);
  return scan;
}

class Deployer {
 public:
  Deployer(const DeployerOptions& options, SignalEvents* signals)
      : options_(options),
        signals_(signals),
        layout_(options.project_folder, options.shared_folder),
        distributed_(layout_.shared_folder()),
        tracker_(config_.liveness_timeout_s) {}

  int Run();

 private:
  int LoadProject();
  int TakeProject();
  int RunHolding();
  bool KeepLease(bool force);  // false when another deployer took the project over
  void AdoptAssignmentOnDisk();
  Status ReloadDus();
  void ReloadConfig();
  void Observe();
  void LogTransition(const AgentLiveness* before, const AgentLiveness& now);
  int WaitForAgents();
  Status PlanAndWrite(bool first_pass);
  void LogWritten(const PlanResult& result);
  void Surveil();
  void RestoreAssignment();
  bool Pause(double seconds);  // false when asked to stop
  bool IsLive(const std::string& id) const;
  std::vector<std::string> IdsIn(Liveness liveness) const;

  DeployerOptions options_;
  SignalEvents* signals_;
  ProjectLayout layout_;
  std::string distributed_;
  ProjectConfig config_;
  std::vector<PlannerDu> dus_;
  std::string generation_;
  std::optional<Assignment> current_;
  int64_t known_version_ = 0;
  std::map<std::string, std::string> pinned_keys_;
  LivenessTracker tracker_;
  std::vector<Announcement> announcements_;  // the valid ones at the last look
  std::map<std::string, AgentLiveness> states_;
  std::map<int, std::set<std::string>> barred_;  // DU -> agents it was moved away from
  OnceLog once_;
  std::optional<LeaseKeeper> lease_;
  bool lease_lost_ = false;
  // The lease could not be written (a full or unreachable shared folder): agents cannot write
  // either, so their silence is not judged and no assignment is written until writes succeed.
  bool folder_unwritable_ = false;
};

int Deployer::LoadProject() {
  boost::system::error_code error;
  if (!boost::filesystem::is_directory(options_.project_folder, error)) {
    spdlog::error(
        "project folder {} does not exist (create the project, then run "
        "cloudbook-maker --project-folder {} --subnets n)",
        options_.project_folder, options_.project_folder);
    return kExitInvalidInput;
  }
  auto opened = OpenProjectLayout(options_.project_folder, options_.shared_folder);
  if (!opened.ok()) {
    spdlog::error("{}", opened.status().message());
    return kExitInvalidInput;
  }
  layout_ = *opened;
  distributed_ = layout_.shared_folder();
  spdlog::info("shared folder {}", distributed_);
  if (FileExists(layout_.config_file())) {
    auto config = ReadProjectConfig(layout_.config_file());
    if (!config.ok()) {
      spdlog::error("{} (fix the file, or remove it to use the defaults)",
                    config.status().message());
      return kExitInvalidInput;
    }
    config_ = *config;
  } else {
    spdlog::info("no {}: default settings", layout_.config_file());
  }
  tracker_.SetTimeout(config_.liveness_timeout_s);

  const Status dus = ReloadDus();
  if (!dus.ok()) {
    if (dus.code() == Status::Code::kNotFound) {
      spdlog::error(
          "no deployable units in {}: run cloudbook-maker first "
          "(cloudbook-maker --project-folder {} --subnets n)",
          distributed_, options_.project_folder);
    } else {
      spdlog::error("the deployable units cannot be read ({}): run cloudbook-maker again",
                    dus.message());
    }
    return kExitInvalidInput;
  }

  auto previous = ReadAssignment(distributed_);
  if (previous.ok()) {
    current_ = *previous;
    spdlog::info("assignment version {} in force (make {}, planned over {})", current_->version,
                 current_->generation, JoinOrNone(current_->agents));
  } else if (previous.status().code() != Status::Code::kNotFound) {
    known_version_ = SalvageVersion(distributed_);
    spdlog::warn("{}: it will be replaced by a fresh plan", previous.status().message());
  }

  // Agents created on this machine: their announcements must carry the key of their config.
  std::vector<std::string> problems;
  for (const AgentConfig& config : ReadLocalAgentConfigs(options_.project_folder, &problems)) {
    pinned_keys_[config.id] = config.signing.public_key;
  }
  return kExitOk;
}

Status Deployer::ReloadDus() {
  CB_ASSIGN_OR_RETURN(std::vector<DuSpec> specs, ReadDuSpecs(layout_));
  const std::string generation = specs.empty() ? "" : specs.front().generation;
  if (generation == generation_) return Status::Ok();
  if (!generation_.empty()) {
    spdlog::info("new deployable units (make {}, {} DUs): the next plan starts afresh", generation,
                 specs.size());
    barred_.clear();
  }
  generation_ = generation;
  dus_.clear();
  for (const DuSpec& spec : specs) dus_.push_back({spec.index, spec.cost});
  return Status::Ok();
}

void Deployer::ReloadConfig() {
  if (!FileExists(layout_.config_file())) return;
  auto config = ReadProjectConfig(layout_.config_file());
  if (!config.ok()) {
    once_.Log(spdlog::level::warn, "config",
              config.status().message() + ": keeping the previous settings");
    return;
  }
  once_.Forget("config");
  if (config->liveness_timeout_s != config_.liveness_timeout_s) {
    spdlog::info("liveness timeout is now {} s", config->liveness_timeout_s);
  }
  config_ = *config;
  tracker_.SetTimeout(config_.liveness_timeout_s);
}

void Deployer::Observe() {
  if (folder_unwritable_) return;  // silence is not judged while nobody can write
  const AnnouncementScan scan = ReadAnnouncementsQuietly(distributed_, pinned_keys_);
  for (const IgnoredAnnouncement& ignored : scan.ignored) {
    once_.Log(spdlog::level::warn, "announcement:" + ignored.path,
              "ignoring announcement " + ignored.path + ": " + ignored.reason);
  }
  for (const Announcement& valid : scan.valid) {
    once_.Forget("announcement:" + SharedFolderLayout(distributed_).announcement_file(valid.id));
  }
  const PeerReportScan reports = ReadPeerReports(distributed_);
  for (const IgnoredStatsFile& ignored : reports.ignored) {
    once_.Log(spdlog::level::warn, "stats:" + ignored.path,
              "ignoring stats file " + ignored.path + ": " + ignored.reason);
  }
  for (const PeerReport& report : reports.reports) {
    once_.Forget("stats:" + SharedFolderLayout(distributed_).stats_file(report.reporter));
  }

  std::map<std::string, AgentLiveness> states;
  for (AgentLiveness& state : tracker_.Update(scan, reports.reports, SteadyNowMs(), UnixTimeMs())) {
    const auto before = states_.find(state.id);
    LogTransition(before == states_.end() ? nullptr : &before->second, state);
    states.emplace(state.id, std::move(state));
  }
  states_ = std::move(states);
  announcements_ = scan.valid;
}

void Deployer::LogTransition(const AgentLiveness* before, const AgentLiveness& now) {
  if (before != nullptr && before->state == now.state) return;
  const Announcement& announced = now.announcement;
  switch (now.state) {
    case Liveness::kLive:
      if (before != nullptr && before->state == Liveness::kLost) {
        spdlog::info(
            "{} is back ({}): it may receive DUs in later plans; the DUs moved away "
            "from it stay where they are",
            now.id, now.why);
      } else {
        spdlog::info("{} live: {}, {} core{}, {:.1f} GFLOP/s ({})", now.id,
                     GrantName(announced.grant), announced.capacity.cores,
                     announced.capacity.cores == 1 ? "" : "s", announced.capacity.gflops, now.why);
      }
      break;
    case Liveness::kLost:
      if (now.id == kAgentZeroId) {
        spdlog::error(
            "{} lost ({}): the run cannot finish without agent 0; DU 0 stays "
            "assigned to it and resumes when it comes back",
            now.id, now.why);
      } else {
        spdlog::warn("{} lost ({})", now.id, now.why);
      }
      break;
    case Liveness::kUnconfirmed:
      // First sight is normal (it proves itself with its next announcement): not worth a line.
      if (before != nullptr) {
        spdlog::info("{} announced but not counted as live: {}", now.id, now.why);
      }
      break;
  }
}

bool Deployer::IsLive(const std::string& id) const {
  const auto found = states_.find(id);
  return found != states_.end() && found->second.state == Liveness::kLive;
}

std::vector<std::string> Deployer::IdsIn(Liveness liveness) const {
  std::vector<std::string> ids;
  for (const auto& [id, state] : states_) {
    if (state.state == liveness) ids.push_back(id);
  }
  return ids;
}

bool Deployer::Pause(double seconds) {
  const int64_t deadline = SteadyNowMs() + static_cast<int64_t>(std::max(0.0, seconds) * 1000);
  while (true) {
    int64_t left_ms = std::max<int64_t>(0, deadline - SteadyNowMs());
    if (lease_ && lease_->held()) left_ms = std::min(left_ms, lease_->MsUntilRenew());
    pollfd poll_fd{signals_ ? signals_->fd() : -1, POLLIN, 0};
    const int ready =
        ::poll(signals_ ? &poll_fd : nullptr, signals_ ? 1 : 0, static_cast<int>(left_ms));
    if (ready > 0 && (poll_fd.revents & POLLIN)) {
      for (const int signal : signals_->TakePending()) {
        if (signal == SIGHUP) {
          spdlog::info("SIGHUP: re-reading {}", layout_.config_file());
          ReloadConfig();
        } else {
          spdlog::info("{}: stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
          return false;
        }
      }
    }
    if (!KeepLease(false)) return false;
    if (SteadyNowMs() >= deadline) return true;
  }
}

bool Deployer::KeepLease(bool force) {
  if (!lease_ || !lease_->held()) return !lease_lost_;
  switch (lease_->Renew(force)) {
    case LeaseKeeper::Outcome::kHeld:
      if (folder_unwritable_) {
        folder_unwritable_ = false;
        tracker_.Forgive(SteadyNowMs());
        spdlog::info(
            "the shared folder takes writes again: judging agents on what they write from now on");
      }
      return true;
    case LeaseKeeper::Outcome::kIoError:
      if (!folder_unwritable_) {
        folder_unwritable_ = true;
        spdlog::error(
            "{}: agents cannot write their announcements either, so until writes succeed no "
            "agent is judged lost and no assignment is written (free space in the shared "
            "folder)",
            lease_->message());
      }
      return true;
    case LeaseKeeper::Outcome::kBusy:
    case LeaseKeeper::Outcome::kStopped:
      break;
  }
  lease_lost_ = true;
  spdlog::error("{}: stopping without writing anything more", lease_->message());
  return false;
}

int Deployer::WaitForAgents() {
  const double limit_s = options_.wait_s >= 0 ? options_.wait_s : 2 * config_.announce_interval_s;
  const double gather_s = options_.fast_start ? 0 : limit_s;
  // Only new sequences count (a file left by a dead agent never shows one): a fast start
  // plans once agent 0 is live and every agent seen has had its chance to show one.
  spdlog::info("{} (liveness timeout {} s)",
               options_.fast_start
                   ? fmt::format("fast start: planning as soon as agent 0 is live (waiting for "
                                 "it up to {} s)",
                                 limit_s)
                   : fmt::format("waiting {} s for agents to announce themselves", limit_s),
               config_.liveness_timeout_s);
  const int64_t start = SteadyNowMs();
  int64_t next_progress =
      start + static_cast<int64_t>(GetTunables().deployer_progress_every_s * 1000);
  while (true) {
    Observe();
    const int64_t now = SteadyNowMs();
    const double elapsed_s = (now - start) / 1000.0;
    if (elapsed_s >= gather_s && IsLive(kAgentZeroId) && !tracker_.Settling(now)) {
      return kExitOk;
    }
    if (elapsed_s >= limit_s) break;
    if (now >= next_progress) {
      next_progress = now + static_cast<int64_t>(GetTunables().deployer_progress_every_s * 1000);
      const auto zero = states_.find(kAgentZeroId);
      spdlog::info("waiting for agents ({:.0f} s left): live: {}; silent: {}; agent 0: {}",
                   limit_s - elapsed_s, JoinOrNone(IdsIn(Liveness::kLive)),
                   JoinOrNone(IdsIn(Liveness::kUnconfirmed)),
                   zero == states_.end() ? "not announced" : LivenessName(zero->second.state));
    }
    if (!Pause(std::min(GetTunables().deployer_observe_every_s, limit_s - elapsed_s)))
      return kStopped;
  }
  for (const std::string& id : IdsIn(Liveness::kUnconfirmed)) {
    spdlog::warn("{} does not count: {}", id, states_.at(id).why);
  }
  // The wait is over: an agent still settling (seen once, not confirmed) does not hold back a
  // live agent 0; it joins at a later plan if it ever confirms.
  if (IsLive(kAgentZeroId)) return kExitOk;
  if (IdsIn(Liveness::kLive).empty()) {
    spdlog::error(
        "no live agent after {} s: launch agents with cloudbook-agent launch "
        "--project-folder {} --agent-id ID (agent 0 first: cloudbook-agent create "
        "--agent-0 ...)",
        limit_s, options_.project_folder);
  } else {
    spdlog::error(
        "no agent 0: create and launch it with cloudbook-agent create --agent-0 "
        "--project-folder {} --grant HIGH, then cloudbook-agent launch "
        "--project-folder {} --agent-id {} (live agents: {})",
        options_.project_folder, options_.project_folder, kAgentZeroId,
        JoinOrNone(IdsIn(Liveness::kLive)));
  }
  return kExitUnavailable;
}

Status Deployer::PlanAndWrite(bool first_pass) {
  PlanRequest request;
  request.dus = dus_;
  request.generation = generation_;
  std::vector<int> indices;
  for (const PlannerDu& du : dus_) indices.push_back(du.index);
  for (const auto& [id, state] : states_) {
    if (state.state == Liveness::kLive) {
      const Announcement& announced = state.announcement;
      const bool quiet =
          state.silent_s > GetTunables().quiet_intervals * announced.announce_interval_s;
      request.live.push_back(
          {id, announced.grant, announced.capacity.cores, announced.capacity.gflops, quiet});
    } else {
      request.not_live_reasons[id] = state.why;
    }
  }
  request.previous = current_ ? &*current_ : nullptr;
  request.started = StartedDus(distributed_, announcements_, indices);
  request.barred = barred_;
  request.known_version = known_version_;
  PlanResult result = PlanAssignment(request);

  std::string notes;
  for (const std::string& note : result.notes) notes += (notes.empty() ? "" : "; ") + note;
  if (notes.empty()) {
    once_.Forget("notes");
  } else {
    once_.Log(spdlog::level::warn, "notes", notes);
  }
  if (!result.changed) {
    if (first_pass) {
      spdlog::info("assignment version {} kept: the owners of its DUs are live",
                   result.assignment.version);
    }
    return Status::Ok();
  }
  if (!KeepLease(true)) return Status::IoError(lease_->message());
  if (folder_unwritable_) return Status::IoError("the shared folder takes no writes");
  result.assignment.time_ms = UnixTimeMs();
  CB_RETURN_IF_ERROR(WriteAssignment(distributed_, result.assignment));
  known_version_ = std::max(known_version_, result.assignment.version);
  LogWritten(result);
  current_ = result.assignment;
  return Status::Ok();
}

void Deployer::LogWritten(const PlanResult& result) {
  const Assignment& plan = result.assignment;
  for (const PlanChange& change : result.changes) {
    const DuAssignment* entry = plan.Find(change.du);
    const std::string reason = entry ? entry->reason : "";
    switch (change.kind) {
      case PlanChange::Kind::kFresh:
      case PlanChange::Kind::kRebalanced:
      case PlanChange::Kind::kDuZeroHome:
        spdlog::info("DU {} -> {} (assignment version {}): {}", change.du, change.to, plan.version,
                     reason);
        break;
      case PlanChange::Kind::kFromNotLive: {
        const auto state = states_.find(change.from);
        const bool lost = state != states_.end() && state->second.state == Liveness::kLost;
        spdlog::info("{} {} ({}): DU {} -> {} (assignment version {}): {}", change.from,
                     lost ? "lost" : "is not live", change.from_why, change.du, change.to,
                     plan.version, reason);
        barred_[change.du].insert(change.from);
        break;
      }
    }
  }
  std::map<std::string, std::vector<int>> owned;
  for (const DuAssignment& entry : plan.dus) owned[entry.agent].push_back(entry.du);
  std::string summary;
  for (const auto& [agent, dus] : owned) {
    summary += (summary.empty() ? "" : "; ") + agent + ": DU" + (dus.size() == 1 ? " " : "s ") +
               JoinNumbers(dus);
  }
  spdlog::info("assignment version {} written ({}): {}", plan.version, AssignmentPath(distributed_),
               summary);
}

// assignment.json replaced by another writer (garbage, a symlink, a folder): agents ignore
// an unreadable file and keep their DUs, and the deployer puts the version in force back
// (the atomic rename replaces a link itself, never its target).
void Deployer::RestoreAssignment() {
  if (!current_) return;
  const Result<Assignment> on_disk = ReadAssignment(distributed_);
  if (on_disk.ok() || folder_unwritable_ || !KeepLease(true)) return;
  spdlog::warn("{}: writing assignment version {} back", on_disk.status().message(),
               current_->version);
  if (on_disk.status().code() != Status::Code::kNotFound)
    (void)RemovePath(AssignmentPath(distributed_));
  const Status restored = WriteAssignment(distributed_, *current_);
  if (!restored.ok()) spdlog::error("cannot restore the assignment: {}", restored.message());
}

void Deployer::Surveil() {
  spdlog::info(
      "surveillance: a check every {} s; an agent is lost after {} s without a new "
      "announcement or heartbeat; Ctrl-C stops",
      options_.surveillance_s, config_.liveness_timeout_s);
  while (Pause(options_.surveillance_s)) {
    ReloadConfig();
    const Status dus = ReloadDus();
    if (dus.ok()) {
      once_.Forget("dus");
    } else {
      once_.Log(
          spdlog::level::warn, "dus",
          "cannot read the deployable units (" + dus.message() + "): keeping make " + generation_);
    }
    if (folder_unwritable_) continue;  // KeepLease retries every renew interval
    Observe();
    RestoreAssignment();
    AdoptAssignmentOnDisk();
    const Status written = PlanAndWrite(false);
    if (written.ok()) {
      once_.Forget("write");
    } else {
      once_.Log(spdlog::level::err, "write",
                "cannot write the assignment (" + written.message() +
                    "): the previous one stays in force; retrying at every check");
    }
  }
}

// Another writer's valid assignment (a deployer that held the project before this one, a
// restored backup): a newer version is adopted as the one in force; an older or equal version
// with other owners is answered with this deployer's own, re-issued above both, so that the
// version agents see never goes backwards.
void Deployer::AdoptAssignmentOnDisk() {
  const Result<Assignment> on_disk = ReadAssignment(distributed_);
  if (!on_disk.ok()) return;  // RestoreAssignment's case
  if (current_ && ToJson(*on_disk) == ToJson(*current_)) return;
  known_version_ = std::max(known_version_, on_disk->version);
  if (!current_ || on_disk->version > current_->version) {
    if (current_) {
      spdlog::warn("{} holds version {} written by another deployer: adopting it (was {})",
                   AssignmentPath(distributed_), on_disk->version, current_->version);
    }
    current_ = *on_disk;
    return;
  }
  if (folder_unwritable_ || !KeepLease(true)) return;
  Assignment reissued = *current_;
  reissued.version = known_version_ + 1;
  reissued.time_ms = UnixTimeMs();
  spdlog::warn(
      "{} holds version {} from another writer, not above this deployer's {}: writing this "
      "deployer's assignment back as version {}",
      AssignmentPath(distributed_), on_disk->version, current_->version, reissued.version);
  const Status written = WriteAssignment(distributed_, reissued);
  if (!written.ok()) {
    spdlog::error("cannot write the assignment: {}", written.message());
    return;
  }
  current_ = reissued;
  known_version_ = reissued.version;
}

// Takes the project's lease (one deployer per project), then raises the version floor above
// every version in use: the assignment on disk and the owner versions in checkpoints.
int Deployer::TakeProject() {
  lease_.emplace(layout_.deployer_lease_file(), config_.liveness_timeout_s, HostName(),
                 static_cast<int64_t>(::getpid()));
  switch (lease_->Acquire([this](double seconds) { return Pause(seconds); })) {
    case LeaseKeeper::Outcome::kHeld:
      break;
    case LeaseKeeper::Outcome::kBusy:
      spdlog::error("{}", lease_->message());
      return kExitConflict;
    case LeaseKeeper::Outcome::kStopped:
      return kStopped;
    case LeaseKeeper::Outcome::kIoError:
      spdlog::error("{}", lease_->message());
      return kExitIo;
  }
  spdlog::info("this deployer holds the project ({}, renewed every {} s)",
               layout_.deployer_lease_file(), GetTunables().lease_renew_every_s);
  AdoptAssignmentOnDisk();
  const int64_t in_checkpoints = HighestCheckpointOwnerVersion(layout_.checkpoints());
  if (in_checkpoints > (current_ ? current_->version : 0)) {
    spdlog::warn(
        "checkpoints carry owner version {}, above the assignment's {}: the next assignment is "
        "numbered above it",
        in_checkpoints, current_ ? current_->version : 0);
  }
  known_version_ = std::max(known_version_, in_checkpoints);
  return kExitOk;
}

int Deployer::RunHolding() {
  const int waited = WaitForAgents();
  if (waited == kStopped) {
    if (lease_lost_) return kExitConflict;
    spdlog::warn("stopped while waiting for agents: no assignment was written");
    return kExitOk;
  }
  if (waited != kExitOk) return waited;
  const Status written = PlanAndWrite(true);
  if (!written.ok()) {
    spdlog::error("cannot write the assignment: {}", written.message());
    return lease_lost_ ? kExitConflict : kExitIo;
  }
  if (options_.surveillance_s <= 0) return kExitOk;
  Surveil();
  if (lease_lost_) return kExitConflict;
  spdlog::info("surveillance stopped: assignment version {} stays in force",
               current_ ? current_->version : 0);
  return kExitOk;
}

int Deployer::Run() {
  const int loaded = LoadProject();
  if (loaded != kExitOk) return loaded;
  spdlog::info("{} DUs (make {}) for {}", dus_.size(), generation_, options_.project_folder);
  const int taken = TakeProject();
  if (taken == kStopped) {
    spdlog::warn("stopped before taking the project: no assignment was written");
    return kExitOk;
  }
  if (taken != kExitOk) return taken;
  const int code = RunHolding();
  lease_->Release();
  return code;
}

}  // namespace

int RunDeployer(const DeployerOptions& options, SignalEvents* signals) {
  Deployer deployer(options, signals);
  return deployer.Run();
}

}  // namespace cloudbook
