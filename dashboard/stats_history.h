// The live charts' memory. Agents keep only their latest stats in the shared folder
// (distributed/stats/<id>.json, shared/formats/agent_stats.h); the dashboard samples them every
// refresh and keeps the series here: per agent (process CPU and memory, network rates) and
// per machine (CPU, memory, network rates; one series per host, fed by whichever of its
// agents wrote last). Rates come from the cumulative network counters of consecutive
// samples. Not thread-safe: the dashboard guards it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "shared/formats/agent_stats.h"
#include "shared/json_io.h"
#include "shared/tunables.h"

namespace cloudbook {

class StatsHistory {
 public:
  // Points older than `keep_ms` (relative to the newest) are dropped, and a series never
  // holds more than `max_points`.
  explicit StatsHistory(int64_t keep_ms = GetTunables().stats_history_keep_ms.count(),
                        size_t max_points = GetTunables().stats_history_max_points);

  // One agent's stats, from the machine `host` ("" when not announced). Stats already seen
  // (same or older time) are ignored.
  void Add(const std::string& host, const AgentStats& stats);

  // {"agents": {id: [points]}, "machines": {host: [points]}} with points newer than
  // `since_ms` (docs/dashboard.md has the point fields).
  Json Since(int64_t since_ms) const;

 private:
  struct Point {
    int64_t time = 0;
    Json values;
  };
  struct Counters {
    int64_t time = 0;
    double rx = -1, tx = -1;
  };
  using Series = std::deque<Point>;

  void Append(Series& series, Point point);
  static Json SeriesSince(const std::map<std::string, Series>& all, int64_t since_ms);

  int64_t keep_ms_;
  size_t max_points_;
  std::map<std::string, int64_t> latest_time_;  // of each agent's latest stats
  std::map<std::string, Series> agents_;
  std::map<std::string, Series> machines_;
  std::map<std::string, Counters> agent_counters_;
  std::map<std::string, Counters> machine_counters_;
};

}  // namespace cloudbook
