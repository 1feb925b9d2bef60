#include "agent/core/system_sampler.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace cloudbook {

namespace {

bool ReadProcFile(const char* path, std::string& text) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  text = buffer.str();
  return !in.bad();
}

// Value (in kB) of "<key>: <n> kB" in a /proc status-style text.
Result<uint64_t> KilobyteField(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    uint64_t kilobytes = 0;
    if (!(fields >> kilobytes)) break;
    return kilobytes * 1024;
  }
  return Status::Corruption(key + " not found");
}

template <typename Parsed, typename Parser>
bool Sample(const char* path, Parser parser, Parsed& value) {
  std::string text;
  Result<Parsed> parsed = Status::NotFound(path);
  if (ReadProcFile(path, text)) parsed = parser(text);
  if (parsed.ok()) {
    value = *parsed;
    return true;
  }
  spdlog::debug("stats: {}: {}", path, parsed.status().message());
  return false;
}

}  // namespace

Result<uint64_t> ParseProcessCpuTicks(const std::string& proc_pid_stat) {
  const auto close = proc_pid_stat.rfind(')');
  if (close == std::string::npos) return Status::Corruption("no ')' after the command name");
  std::istringstream fields(proc_pid_stat.substr(close + 1));
  std::vector<std::string> values;
  std::string value;
  while (fields >> value) values.push_back(value);
  // Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
  if (values.size() < 13) return Status::Corruption("too few fields");
  try {
    return static_cast<uint64_t>(std::stoull(values[11]) + std::stoull(values[12]));
  } catch (const std::exception&) {
    return Status::Corruption("utime or stime is not a number");
  }
}

Result<uint64_t> ParseVmRssBytes(const std::string& proc_pid_status) {
  return KilobyteField(proc_pid_status, "VmRSS");
}

Result<MachineCpuTimes> ParseMachineCpuTimes(const std::string& proc_stat) {
  std::istringstream lines(proc_stat);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("cpu ", 0) != 0) continue;
    std::istringstream fields(line.substr(4));
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    uint64_t values[8] = {};
    int count = 0;
    while (count < 8 && fields >> values[count]) ++count;
    if (count < 4) break;
    MachineCpuTimes times;
    const uint64_t idle = values[3] + values[4];
    for (int i = 0; i < count; ++i) times.total += values[i];
    times.busy = times.total - idle;
    return times;
  }
  return Status::Corruption("no aggregate cpu line");
}

Result<MemoryInfo> ParseMemInfo(const std::string& proc_meminfo) {
  MemoryInfo info;
  CB_ASSIGN_OR_RETURN(info.total_bytes, KilobyteField(proc_meminfo, "MemTotal"));
  CB_ASSIGN_OR_RETURN(info.available_bytes, KilobyteField(proc_meminfo, "MemAvailable"));
  return info;
}

Result<NetworkBytes> ParseNetDev(const std::string& proc_net_dev) {
  NetworkBytes bytes;
  std::istringstream lines(proc_net_dev);
  std::string line;
  bool any = false;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    std::istringstream fields(line.substr(colon + 1));
    // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes ...
    uint64_t values[9] = {};
    int count = 0;
    while (count < 9 && fields >> values[count]) ++count;
    if (count < 9) return Status::Corruption("interface " + name + " has too few fields");
    any = true;
    if (name == "lo") {
      bytes.loopback_rx += values[0];
      bytes.loopback_tx += values[8];
    } else {
      bytes.rx += values[0];
      bytes.tx += values[8];
    }
  }
  if (!any) return Status::Corruption("no interface lines");
  return bytes;
}

SystemSample TakeSystemSample() {
  SystemSample sample;
  sample.time = std::chrono::steady_clock::now();
  Sample("/proc/self/stat", ParseProcessCpuTicks, sample.process_cpu_ticks);
  Sample("/proc/self/status", ParseVmRssBytes, sample.rss_bytes);
  Sample("/proc/stat", ParseMachineCpuTimes, sample.machine_cpu);
  Sample("/proc/meminfo", ParseMemInfo, sample.memory);
  Sample("/proc/net/dev", ParseNetDev, sample.network);
  return sample;
}

double ProcessCpuPercent(const SystemSample& before, const SystemSample& after) {
  const double seconds = std::chrono::duration<double>(after.time - before.time).count();
  if (seconds <= 0 || after.process_cpu_ticks < before.process_cpu_ticks) return 0;
  static const double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double cpu_seconds =
      static_cast<double>(after.process_cpu_ticks - before.process_cpu_ticks) / ticks_per_second;
  return 100.0 * cpu_seconds / seconds;
}

double MachineCpuPercent(const SystemSample& before, const SystemSample& after) {
  if (after.machine_cpu.total <= before.machine_cpu.total ||
      after.machine_cpu.busy < before.machine_cpu.busy) {
    return 0;
  }
  return 100.0 * static_cast<double>(after.machine_cpu.busy - before.machine_cpu.busy) /
         static_cast<double>(after.machine_cpu.total - before.machine_cpu.total);
}

}  // namespace cloudbook
