#include "agent/core/stats_writer.h"

#include <cmath>

#include "shared/clock.h"
#include "shared/project_layout.h"

namespace cloudbook {

namespace {

double Rounded(double value, double step) {
  if (!std::isfinite(value)) return 0;
  return std::round(value / step) * step;
}

}  // namespace

AgentStats SampleStats(const std::string& agent_id, int64_t time_ms, const SystemSample& before,
                       const SystemSample& after, const std::vector<DuProgress>& dus,
                       const PeerLivenessView& peers) {
  AgentStats stats;
  stats.id = agent_id;
  stats.time_ms = time_ms;
  stats.interval_s =
      Rounded(std::chrono::duration<double>(after.time - before.time).count(), 0.001);
  stats.process_cpu_percent = Rounded(ProcessCpuPercent(before, after), 0.1);
  stats.process_rss_bytes = static_cast<int64_t>(after.rss_bytes);
  stats.machine_cpu_percent = Rounded(MachineCpuPercent(before, after), 0.1);
  stats.memory_total_bytes = static_cast<int64_t>(after.memory.total_bytes);
  stats.memory_available_bytes = static_cast<int64_t>(after.memory.available_bytes);
  stats.rx_bytes = static_cast<int64_t>(after.network.rx);
  stats.tx_bytes = static_cast<int64_t>(after.network.tx);
  stats.loopback_rx_bytes = static_cast<int64_t>(after.network.loopback_rx);
  stats.loopback_tx_bytes = static_cast<int64_t>(after.network.loopback_tx);
  for (DuProgress du : dus) {
    du.samples_per_second = Rounded(du.samples_per_second, 0.01);
    stats.dus.push_back(du);
  }
  for (const auto& [id, alive] : peers) stats.peers[id] = {alive, alive ? time_ms : 0};
  return stats;
}

StatsWriter::StatsWriter(std::string shared_folder, std::string agent_id)
    : shared_folder_(std::move(shared_folder)),
      agent_id_(std::move(agent_id)),
      path_(SharedFolderLayout(shared_folder_).stats_file(agent_id_)),
      previous_(TakeSystemSample()) {}

Status StatsWriter::Write(const std::vector<DuProgress>& dus, const PeerLivenessView& peers) {
  const SystemSample current = TakeSystemSample();
  const Json json = ToJson(SampleStats(agent_id_, UnixTimeMs(), previous_, current, dus, peers));
  previous_ = current;
  return WriteJsonFileAtomically(path_, json);
}

}  // namespace cloudbook
