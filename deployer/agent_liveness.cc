#include "deployer/agent_liveness.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "shared/text.h"
#include "shared/tunables.h"

namespace cloudbook {

namespace {

// "agents/agent-x.json" -> "agent-x".
std::string FileStem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

std::string LivenessName(Liveness liveness) {
  switch (liveness) {
    case Liveness::kLive:
      return "live";
    case Liveness::kLost:
      return "lost";
    case Liveness::kUnconfirmed:
      return "unconfirmed";
  }
  return "unknown";
}

double LivenessTracker::TimeoutMs(const Announcement& announcement) const {
  return 1000.0 * std::max(timeout_s_, GetTunables().lost_min_announce_intervals *
                                           announcement.announce_interval_s);
}

bool LivenessTracker::Settling(int64_t steady_ms) const {
  for (const auto& [id, tracked] : agents_) {
    if (!tracked.present || tracked.confirmed || tracked.last.status == AgentRunState::kStopping) {
      continue;
    }
    const double watch_ms =
        1000.0 * GetTunables().first_sight_watch_intervals * tracked.last.announce_interval_s;
    if (steady_ms - tracked.first_seen_steady_ms < watch_ms) return true;
  }
  return false;
}

void LivenessTracker::Forgive(int64_t steady_ms) {
  for (auto& [id, tracked] : agents_) {
    tracked.last_new_steady_ms = std::max(tracked.last_new_steady_ms, steady_ms);
  }
  for (auto& [id, tracked] : reports_) {
    tracked.last_new_steady_ms = std::max(tracked.last_new_steady_ms, steady_ms);
  }
}

std::vector<AgentLiveness> LivenessTracker::Update(const AnnouncementScan& announcements,
                                                   const std::vector<PeerReport>& reports,
                                                   int64_t steady_ms, int64_t unix_ms) {
  clock_offsets_.Observe(announcements.valid, steady_ms, unix_ms);
  // Announcements: a new sequence number is the sign of life, timed on our clock.
  std::set<std::string> seen;
  for (const Announcement& announcement : announcements.valid) {
    seen.insert(announcement.id);
    auto found = agents_.find(announcement.id);
    if (found == agents_.end()) {
      Tracked tracked;
      tracked.first_seen_steady_ms = steady_ms;
      tracked.last_new_steady_ms = steady_ms;
      tracked.last = announcement;
      agents_.emplace(announcement.id, std::move(tracked));
      continue;
    }
    Tracked& tracked = found->second;
    if (announcement.sequence != tracked.last.sequence) {
      tracked.last_new_steady_ms = steady_ms;
      tracked.confirmed = true;
    }
    tracked.last = announcement;
    tracked.present = true;
  }
  // A file that is there but unreadable (tampered, mid-sync) is silence, not a departure.
  for (const IgnoredAnnouncement& ignored : announcements.ignored) {
    seen.insert(FileStem(ignored.path));
  }
  for (auto& [id, tracked] : agents_) {
    if (!seen.count(id)) tracked.present = false;
  }

  // Stats files: fresh while their "time" keeps changing (our clock again).
  std::vector<const PeerReport*> fresh_reports;
  for (const PeerReport& report : reports) {
    auto found = reports_.find(report.reporter);
    if (found == reports_.end()) {
      TrackedReport tracked;
      tracked.time_ms = report.time_ms;
      tracked.last_new_steady_ms = steady_ms;
      found = reports_.emplace(report.reporter, tracked).first;
    } else if (report.time_ms != found->second.time_ms) {
      found->second.time_ms = report.time_ms;
      found->second.last_new_steady_ms = steady_ms;
      found->second.confirmed = true;
    }
    const TrackedReport& tracked = found->second;
    if (tracked.confirmed && steady_ms - tracked.last_new_steady_ms <= 1000.0 * timeout_s_) {
      fresh_reports.push_back(&report);
    }
  }

  const auto announcing = [&](const Tracked& tracked) {
    return tracked.present && tracked.last.status != AgentRunState::kStopping &&
           tracked.confirmed && steady_ms - tracked.last_new_steady_ms <= TimeoutMs(tracked.last);
  };

  std::vector<AgentLiveness> states;
  for (const auto& [id, tracked] : agents_) {
    AgentLiveness state;
    state.id = id;
    state.announcement = tracked.last;
    const double timeout_ms = TimeoutMs(tracked.last);
    std::vector<std::string> reporters;  // live agents that report heartbeats
    for (const PeerReport* report : fresh_reports) {
      if (report->reporter == id || report->peers.empty()) continue;
      const auto reporter = agents_.find(report->reporter);
      if (reporter == agents_.end() || !announcing(reporter->second)) continue;
      reporters.push_back(report->reporter);
      const auto heard = report->peers.find(id);
      if (heard == report->peers.end() || !heard->second.alive) continue;
      const double age_ms = static_cast<double>(report->time_ms - heard->second.last_heard_ms);
      if (age_ms <= timeout_ms && age_ms >= -timeout_ms) state.heard_by.push_back(report->reporter);
    }
    const double silent_s = (steady_ms - tracked.last_new_steady_ms) / 1000.0;
    state.silent_s = silent_s;
    if (!tracked.present) {
      state.state = Liveness::kLost;
      state.why = "its announcement file was removed";
    } else if (tracked.last.status == AgentRunState::kStopping) {
      state.state = Liveness::kLost;
      state.why = "it announced that it is stopping";
    } else if (announcing(tracked)) {
      state.state = Liveness::kLive;
      state.why = fmt::format("announcement sequence {}", tracked.last.sequence);
    } else if (!state.heard_by.empty()) {
      state.state = Liveness::kLive;
      state.why = fmt::format("no new announcement for {:.1f} s, but heartbeats seen by {}",
                              silent_s, Join(state.heard_by));
    } else {
      const std::string heartbeats = reporters.empty() ? "and no live agent reports heartbeats"
                                                       : "no heartbeat seen by " + Join(reporters);
      if (tracked.confirmed) {
        state.state = Liveness::kLost;
        state.why = fmt::format("no announcement for {:.1f} s, {}", silent_s, heartbeats);
      } else {
        state.state = Liveness::kUnconfirmed;
        state.why = fmt::format(
            "no new announcement in the {:.1f} s since the deployer first saw it (sequence "
            "{}), {}",
            silent_s, tracked.last.sequence, heartbeats);
      }
    }
    states.push_back(std::move(state));
  }
  return states;
}

}  // namespace cloudbook
