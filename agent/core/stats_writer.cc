#include "agent/core/stats_writer.h"

#include <cmath>

#include "agent/core/agent_paths.h"
#include "agent/core/announcement.h"

namespace cloudbook {

namespace {

double Rounded(double value, double step) {
  if (!std::isfinite(value)) return 0;
  return std::round(value / step) * step;
}

}  // namespace

Json StatsJson(const std::string& agent_id, int64_t time_ms, const SystemSample& before,
               const SystemSample& after, const std::vector<DuProgress>& dus,
               const PeerLivenessView& peers) {
  Json peer_list = Json::object();
  for (const auto& [id, alive] : peers) {
    peer_list[id] = {{"alive", alive}, {"last_heard_ms", alive ? Json(time_ms) : Json(nullptr)}};
  }
  Json du_list = Json::array();
  for (const DuProgress& du : dus) {
    du_list.push_back({{"du", du.du},
                       {"epoch", du.epoch},
                       {"loss", std::isfinite(du.loss) ? Json(du.loss) : Json(nullptr)},
                       {"samples_per_second", Rounded(du.samples_per_second, 0.01)}});
  }
  const double interval_s = std::chrono::duration<double>(after.time - before.time).count();
  return {{"format_version", kStatsFormatVersion},
          {"id", agent_id},
          {"time", time_ms},
          {"interval_s", Rounded(interval_s, 0.001)},
          {"process",
           {{"cpu_percent", Rounded(ProcessCpuPercent(before, after), 0.1)},
            {"rss_bytes", after.rss_bytes}}},
          {"machine",
           {{"cpu_percent", Rounded(MachineCpuPercent(before, after), 0.1)},
            {"memory_total_bytes", after.memory.total_bytes},
            {"memory_available_bytes", after.memory.available_bytes}}},
          {"network",
           {{"rx_bytes", after.network.rx},
            {"tx_bytes", after.network.tx},
            {"loopback_rx_bytes", after.network.loopback_rx},
            {"loopback_tx_bytes", after.network.loopback_tx}}},
          {"dus", du_list},
          {"peers", peer_list}};
}

StatsWriter::StatsWriter(std::string distributed_folder, std::string agent_id)
    : distributed_folder_(std::move(distributed_folder)),
      agent_id_(std::move(agent_id)),
      path_(StatsPath(distributed_folder_, agent_id_)),
      previous_(TakeSystemSample()) {}

Status StatsWriter::Write(const std::vector<DuProgress>& dus, const PeerLivenessView& peers) {
  const SystemSample current = TakeSystemSample();
  const Json json = StatsJson(agent_id_, UnixTimeMs(), previous_, current, dus, peers);
  previous_ = current;
  return WriteJsonFileAtomically(path_, json);
}

}  // namespace cloudbook
