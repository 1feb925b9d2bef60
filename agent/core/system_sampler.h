// Counters for the agent's stats, read from /proc: the process's CPU time and resident memory,
// the machine's CPU time, memory and network bytes. Percentages come from the difference of
// two samples. The parsers take the file text, so tests feed them fixed examples.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "shared/status.h"

namespace cloudbook {

struct MachineCpuTimes {
  uint64_t busy = 0;   // jiffies not idle (user nice system irq softirq steal)
  uint64_t total = 0;  // busy + idle + iowait
};

struct MemoryInfo {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
};

struct NetworkBytes {
  uint64_t rx = 0;  // every interface except lo
  uint64_t tx = 0;
  uint64_t loopback_rx = 0;  // lo alone (agents on one machine talk over it)
  uint64_t loopback_tx = 0;
};

// utime + stime (clock ticks) from /proc/<pid>/stat; the command name may hold spaces and ')'.
Result<uint64_t> ParseProcessCpuTicks(const std::string& proc_pid_stat);
// VmRSS from /proc/<pid>/status, in bytes.
Result<uint64_t> ParseVmRssBytes(const std::string& proc_pid_status);
// The aggregate "cpu" line of /proc/stat.
Result<MachineCpuTimes> ParseMachineCpuTimes(const std::string& proc_stat);
// MemTotal and MemAvailable of /proc/meminfo, in bytes.
Result<MemoryInfo> ParseMemInfo(const std::string& proc_meminfo);
// /proc/net/dev summed over interfaces, lo apart.
Result<NetworkBytes> ParseNetDev(const std::string& proc_net_dev);

struct SystemSample {
  std::chrono::steady_clock::time_point time;
  uint64_t process_cpu_ticks = 0;
  uint64_t rss_bytes = 0;
  MachineCpuTimes machine_cpu;
  MemoryInfo memory;
  NetworkBytes network;
};

// Reads the /proc files now. A file that cannot be read or parsed leaves its fields at zero
// and is logged at debug level (e.g. no /proc/net/dev in a sandbox).
SystemSample TakeSystemSample();

// CPU time of the process between the samples as a percentage of one core (as top shows it:
// 250 = two and a half cores busy).
double ProcessCpuPercent(const SystemSample& before, const SystemSample& after);
// Busy share of every core of the machine between the samples, 0 to 100.
double MachineCpuPercent(const SystemSample& before, const SystemSample& after);

}  // namespace cloudbook
