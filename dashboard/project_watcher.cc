#include "dashboard/project_watcher.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <chrono>
#include <map>
#include <set>

#include "shared/atomic_file.h"
#include "shared/clock.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/agent_listing.h"
#include "shared/formats/assignment.h"
#include "shared/shared_files.h"
#include "shared/tunables.h"

namespace cloudbook {
namespace {

constexpr size_t kMaxDuListBytes = 4 * 1024 * 1024;

// Which buttons make sense for an agent on this machine's dashboard.
Json ActionsFor(const AgentListEntry& agent) {
  Json actions = Json::array();
  if (!agent.local) return actions;
  const bool alive = agent.pid > 0 || agent.status == "running" || agent.status == "starting" ||
                     agent.status == "stopping";
  if (alive) {
    actions.push_back("stop");
  } else {
    actions.push_back("launch");
    actions.push_back("remove");
  }
  actions.push_back("edit");
  return actions;
}

// What the agent table shows of the stats: process figures and DU progress.
Json StatsSummary(const AgentStats& stats) {
  const Json json = ToJson(stats);
  return {{"time", stats.time_ms},
          {"cpu_percent", json["process"]["cpu_percent"]},
          {"rss_bytes", json["process"]["rss_bytes"]},
          {"du_progress", json["dus"]}};
}

int CountDus(const ProjectLayout& layout) {
  Result<std::string> text = ReadRegularFileBounded(layout.du_list_file(), kMaxDuListBytes);
  if (!text.ok()) return 0;
  Result<Json> list = ParseJsonText(*text, layout.du_list_file());
  if (!list.ok() || !list->is_object() || !(*list)["dus"].is_array()) return 0;
  return static_cast<int>((*list)["dus"].size());
}

}  // namespace

ProjectWatcher::ProjectWatcher(ProjectLayout layout, double refresh_s, DashboardEntry self)
    : layout_(std::move(layout)),
      refresh_s_(refresh_s),
      self_(std::move(self)),
      overview_(Json::object()),
      agents_(Json::array()),
      runs_(Json::array()),
      dashboards_(Json::array()),
      catalog_(layout_) {}

ProjectWatcher::~ProjectWatcher() { Stop(); }

void ProjectWatcher::Start() {
  RefreshOnce();
  thread_ = std::thread([this] { Loop(); });
}

void ProjectWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    WithdrawDashboard(layout_, self_.host);
  }
}

void ProjectWatcher::RefreshSoon() {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    wake_requested_ = true;
  }
  wake_.notify_all();
}

void ProjectWatcher::Loop() {
  int64_t last_announce = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(wake_mutex_);
      wake_.wait_for(lock, std::chrono::duration<double>(refresh_s_),
                     [this] { return stopping_ || wake_requested_; });
      if (stopping_) return;
      wake_requested_ = false;
    }
    RefreshOnce();
    const int64_t now = UnixTimeMs();
    if (now - last_announce >= GetTunables().dashboard_announce_every_ms.count()) {
      Announce(now);
      last_announce = now;
    }
  }
}

void ProjectWatcher::Announce(int64_t now_ms) {
  // Signed with the key of an agent of this machine that has announced itself (its signed
  // announcement vouches for the key and the host): the first by id.
  std::vector<std::string> problems;
  const std::vector<AgentConfig> configs = ReadLocalAgentConfigs(layout_.root(), &problems);
  std::vector<Announcement> announced;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    announced = announced_;
  }
  const AgentConfig* signer = nullptr;
  for (const AgentConfig& config : configs) {
    const auto vouching = std::find_if(announced.begin(), announced.end(), [&](const auto& a) {
      return a.id == config.id && a.signing_public_key == config.signing.public_key;
    });
    if (vouching != announced.end()) {
      signer = &config;
      break;
    }
  }
  if (signer == nullptr) {
    if (!unannounced_reported_) {
      spdlog::info(
          "this dashboard is not announced to other machines yet: none of this machine's "
          "agents has announced itself in {} (its key signs the dashboard's entry)",
          layout_.announcements());
      unannounced_reported_ = true;
    }
    return;
  }
  unannounced_reported_ = false;
  DashboardEntry entry = self_;
  entry.time_ms = now_ms;
  entry.agent_id = signer->id;
  entry.signing_public_key = signer->signing.public_key;
  const Status written = AnnounceDashboard(layout_, entry, signer->signing.secret_key);
  if (!written.ok()) spdlog::warn("announcing the dashboard: {}", written.ToString());
}

void ProjectWatcher::RefreshOnce() {
  const int64_t now = UnixTimeMs();
  AgentListOptions listing;
  listing.shared_folder = layout_.shared_folder();
  listing.log_ignored = false;
  listing.watch = &announcement_watch_;  // staleness by new sequences, never by its clock
  std::vector<IgnoredAnnouncement> ignored;
  listing.ignored = &ignored;
  std::vector<Announcement> announced;
  listing.announced = &announced;
  const std::vector<AgentListEntry> entries = ListAgents(layout_.root(), now, listing);
  for (const IgnoredAnnouncement& file : ignored) {
    if (reported_.insert(file.path + "\n" + file.reason).second) {
      spdlog::warn("ignoring announcement {}: {}", file.path, file.reason);
    }
  }
  const std::map<std::string, AgentStats> stats = ReadAgentStats(layout_.shared_folder()).valid;
  Result<Assignment> assignment = ReadAssignment(layout_.shared_folder());
  const int dus = CountDus(layout_);
  Json runs;
  {
    std::lock_guard<std::mutex> lock(catalog_mutex_);
    runs = catalog_.List(SteadyNowMs());
  }
  std::vector<IgnoredDashboard> ignored_dashboards;
  Json dashboards = ListDashboards(layout_, self_.host, now, announced, &ignored_dashboards);
  for (const IgnoredDashboard& file : ignored_dashboards) {
    if (reported_.insert(file.path + "\n" + file.reason).second) {
      spdlog::warn("not offering the dashboard of {}: {}", file.path, file.reason);
    }
  }

  std::map<std::string, std::string> host_of;
  Json agents = AgentListJson(entries);
  for (size_t i = 0; i < entries.size(); ++i) {
    host_of[entries[i].id] = entries[i].host;
    auto found = stats.find(entries[i].id);
    // A stopped agent's last stats file describes the past: the table shows none.
    const bool live = entries[i].status != "stopped";
    agents[i]["stats"] = live && found != stats.end() ? StatsSummary(found->second) : Json();
    agents[i]["actions"] = ActionsFor(entries[i]);
  }
  Json overview = {{"project", boost::filesystem::path(layout_.root()).filename().string()},
                   {"project_folder", layout_.root()},
                   {"distributed_folder", layout_.shared_folder()},
                   {"host", self_.host},
                   {"time", now},
                   {"token_required", self_.token_required},
                   {"refresh_interval_s", refresh_s_},
                   {"dus", dus},
                   {"assignment", assignment.ok() ? ToJson(*assignment) : Json()}};

  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [id, report] : stats) {
    auto host = host_of.find(id);
    history_.Add(host != host_of.end() ? host->second : "", report);
  }
  overview_ = std::move(overview);
  agents_ = std::move(agents);
  runs_ = std::move(runs);
  dashboards_ = std::move(dashboards);
  announced_ = std::move(announced);
  ++refreshes_;
}

Json ProjectWatcher::Overview() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Json overview = overview_;
  overview["time"] = UnixTimeMs();
  return overview;
}

Json ProjectWatcher::Agents() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return agents_;
}

Json ProjectWatcher::Stats(int64_t since_ms) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Json stats = history_.Since(since_ms);
  stats["time"] = UnixTimeMs();
  return stats;
}

Json ProjectWatcher::Runs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return runs_;
}

Result<Json> ProjectWatcher::RunDetail(const std::string& run) {
  std::lock_guard<std::mutex> lock(catalog_mutex_);
  return catalog_.Detail(run, SteadyNowMs());
}

Json ProjectWatcher::Dashboards() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dashboards_;
}

}  // namespace cloudbook
