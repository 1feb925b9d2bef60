#include "dashboard/stats_history.h"

namespace cloudbook {
namespace {

double Or(const std::optional<int64_t>& value) { return value ? static_cast<double>(*value) : -1; }

// Bytes per second between two readings of cumulative counters; null when unknown (first
// reading, a counter reset by a reboot, or no time between them).
Json Rate(double before, double after, int64_t before_ms, int64_t after_ms) {
  if (before < 0 || after < before || after_ms <= before_ms) return nullptr;
  return (after - before) * 1000.0 / static_cast<double>(after_ms - before_ms);
}

Json OrNull(double value) { return value >= 0 ? Json(value) : Json(); }

template <typename T>
Json OrNull(const std::optional<T>& value) {
  return value ? Json(*value) : Json();
}

}  // namespace

StatsHistory::StatsHistory(int64_t keep_ms, size_t max_points)
    : keep_ms_(keep_ms), max_points_(max_points) {}

void StatsHistory::Append(Series& series, Point point) {
  series.push_back(std::move(point));
  const int64_t oldest = series.back().time - keep_ms_;
  while (!series.empty() && (series.front().time < oldest || series.size() > max_points_)) {
    series.pop_front();
  }
}

void StatsHistory::Add(const std::string& host, const AgentStats& stats) {
  const std::string& id = stats.id;
  const int64_t time = stats.time_ms;
  auto latest = latest_time_.find(id);
  if (latest != latest_time_.end() && latest->second >= time) return;
  latest_time_[id] = time;

  const double rx = Or(stats.rx_bytes);
  const double tx = Or(stats.tx_bytes);
  Counters& agent_before = agent_counters_[id];
  Append(agents_[id], {time,
                       {{"time", time},
                        {"cpu_percent", OrNull(stats.process_cpu_percent)},
                        {"rss_bytes", OrNull(stats.process_rss_bytes)},
                        {"rx_bytes_per_s", Rate(agent_before.rx, rx, agent_before.time, time)},
                        {"tx_bytes_per_s", Rate(agent_before.tx, tx, agent_before.time, time)}}});
  agent_before = {time, rx, tx};

  // Every agent of a machine reports the same machine figures: one point per interval.
  const std::string machine = host.empty() ? "(not announced)" : host;
  Counters& machine_before = machine_counters_[machine];
  const double interval_ms = (stats.interval_s > 0 ? stats.interval_s : 2.0) * 1000.0;
  if (machine_before.time > 0 && time - machine_before.time < interval_ms / 2) return;
  const double total = Or(stats.memory_total_bytes);
  const double available = Or(stats.memory_available_bytes);
  const Json gpu = OrNull(stats.gpu_utilization_percent);
  Append(machines_[machine],
         {time,
          {{"time", time},
           {"cpu_percent", OrNull(stats.machine_cpu_percent)},
           {"memory_used_bytes", total >= 0 && available >= 0 ? Json(total - available) : Json()},
           {"memory_total_bytes", OrNull(total)},
           {"rx_bytes_per_s", Rate(machine_before.rx, rx, machine_before.time, time)},
           {"tx_bytes_per_s", Rate(machine_before.tx, tx, machine_before.time, time)},
           {"gpu_percent", gpu}}});
  machine_before = {time, rx, tx};
}

Json StatsHistory::SeriesSince(const std::map<std::string, Series>& all, int64_t since_ms) {
  Json out = Json::object();
  for (const auto& [name, series] : all) {
    Json points = Json::array();
    for (const Point& point : series) {
      if (point.time > since_ms) points.push_back(point.values);
    }
    out[name] = std::move(points);
  }
  return out;
}

Json StatsHistory::Since(int64_t since_ms) const {
  return {{"agents", SeriesSince(agents_, since_ms)},
          {"machines", SeriesSince(machines_, since_ms)}};
}

}  // namespace cloudbook
