// The dashboard's view of one project, refreshed from the shared folder every refresh
// interval on its own thread (so the number of open pages never multiplies the reads of a
// slow remote folder): the agents (shared/formats/agent_listing.h) with their latest stats and
// the actions that make sense for each, the stats history, the assignment, the runs, and the
// other machines' dashboards. It also announces this dashboard (dashboard_registry.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dashboard/dashboard_registry.h"
#include "dashboard/run_catalog.h"
#include "dashboard/stats_history.h"
#include "shared/formats/announcement_watch.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"

namespace cloudbook {

class ProjectWatcher {
 public:
  ProjectWatcher(ProjectLayout layout, double refresh_s, DashboardEntry self);
  ~ProjectWatcher();  // stops the thread

  // Refreshes once, then every refresh interval on a thread.
  void Start();
  void Stop();
  // Refresh now (after an action), without waiting for the interval.
  void RefreshSoon();

  Json Overview() const;
  Json Agents() const;
  Json Stats(int64_t since_ms) const;
  Json Runs() const;
  Result<Json> RunDetail(const std::string& run);
  Json Dashboards() const;
  int64_t refreshes() const { return refreshes_; }

 private:
  void Loop();
  void RefreshOnce();
  // Writes this dashboard's signed entry (dashboard_registry.h), when an agent of this machine
  // can vouch for it.
  void Announce(int64_t now_ms);

  const ProjectLayout layout_;
  const double refresh_s_;
  const DashboardEntry self_;
  mutable std::mutex mutex_;  // guards the snapshot below
  Json overview_;
  Json agents_;
  Json runs_;
  Json dashboards_;
  std::vector<Announcement> announced_;  // the valid announcements of the last refresh
  StatsHistory history_;
  std::mutex catalog_mutex_;
  RunCatalog catalog_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool wake_requested_ = false;
  bool stopping_ = false;
  std::atomic<int64_t> refreshes_{0};
  std::set<std::string> reported_;        // ignored files already logged (refresh thread)
  bool unannounced_reported_ = false;     // refresh thread
  AnnouncementWatch announcement_watch_;  // refresh thread only
  std::thread thread_;
};

}  // namespace cloudbook
