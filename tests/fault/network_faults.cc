#include "tests/fault/network_faults.h"

#include <signal.h>

#include <boost/filesystem.hpp>
#include <chrono>
#include <cstdio>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/test_support.h"

namespace cloudbook::testing {

namespace {

std::string DelayProgram() { return std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook_packet_delay"; }

constexpr double kToolTimeoutSeconds = 15;
constexpr double kDelayStartSeconds = 10;
constexpr double kDelayStopSeconds = 10;

std::string ReadOrEmpty(const std::string& path) {
  return boost::filesystem::exists(path) ? ReadFileOrDie(path) : "";
}

// iptables' rules that drop or queue everything in or out of eth0.
const std::vector<std::string> kPartitionIn = {"INPUT", "-i", "eth0", "-j", "DROP"};
const std::vector<std::string> kPartitionOut = {"OUTPUT", "-o", "eth0", "-j", "DROP"};

std::vector<std::string> Iptables(const std::string& action, std::vector<std::string> rule) {
  rule.insert(rule.begin(), {"/usr/sbin/iptables", "-w", "5", action});
  return rule;
}

}  // namespace

NetworkFaults::NetworkFaults(NetnsHosts* hosts, std::string scratch_folder)
    : hosts_(hosts), scratch_(std::move(scratch_folder)) {}

NetworkFaults::~NetworkFaults() { StopDelays(); }

std::string NetworkFaults::WhyNoDelay() {
  return boost::filesystem::exists(DelayProgram())
             ? ""
             : DelayProgram() + " was not built (libnetfilter-queue-dev missing at configure time)";
}

HostRunResult NetworkFaults::Tool(int host, const std::vector<std::string>& argv) {
  return hosts_->Run(host, argv, kToolTimeoutSeconds);
}

Status NetworkFaults::ToolOk(int host, const std::vector<std::string>& argv) {
  const HostRunResult run = Tool(host, argv);
  if (run.exit_code == 0) return Status::Ok();
  std::string line;
  for (const std::string& word : argv) line += " " + word;
  return Status::IoError("host " + std::to_string(host) + ":" + line + " -> exit " +
                         std::to_string(run.exit_code) + ": " + run.output);
}

Status NetworkFaults::AddLoss(int host, double probability) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", probability);
  return ToolOk(host, Iptables("-A", {"OUTPUT", "-o", "eth0", "-m", "statistic", "--mode", "random",
                                      "--probability", text, "-j", "DROP"}));
}

Status NetworkFaults::AddDelay(int host, int milliseconds) {
  if (!WhyNoDelay().empty()) return Status::NotFound(WhyNoDelay());
  if (delay_pids_.count(host) != 0) return Status::InvalidArgument("host already delayed");
  const std::string log = scratch_ + "/packet_delay-" + std::to_string(host) + ".log";
  auto pid = hosts_->Spawn(host, {DelayProgram(), "0", std::to_string(milliseconds)}, {}, log);
  if (!pid.ok()) return pid.status();
  delay_pids_[host] = *pid;
  // Queue packets only once the program holds the queue (bypass covers the gap anyway).
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int>(kDelayStartSeconds * 1000));
  while (ReadOrEmpty(log).find("packet_delay: queue") == std::string::npos) {
    if (hosts_->WaitForExit(*pid, 0) != -1) {
      delay_pids_.erase(host);
      return Status::IoError("cloudbook_packet_delay exited in host " + std::to_string(host) +
                             ": " + ReadOrEmpty(log));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::IoError("cloudbook_packet_delay did not start in host " +
                             std::to_string(host));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ToolOk(host, Iptables("-A", {"OUTPUT", "-o", "eth0", "-j", "NFQUEUE", "--queue-num", "0",
                                      "--queue-bypass"}));
}

Status NetworkFaults::CapBandwidth(int host, int kilobits_per_second) {
  return ToolOk(
      host, {"/usr/sbin/tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate",
             std::to_string(kilobits_per_second) + "kbit", "burst", "32kb", "latency", "200ms"});
}

Status NetworkFaults::Partition(int host) {
  CB_RETURN_IF_ERROR(ToolOk(host, Iptables("-I", {"INPUT", "1", "-i", "eth0", "-j", "DROP"})));
  return ToolOk(host, Iptables("-I", {"OUTPUT", "1", "-o", "eth0", "-j", "DROP"}));
}

Status NetworkFaults::Heal(int host) {
  CB_RETURN_IF_ERROR(ToolOk(host, Iptables("-D", kPartitionIn)));
  return ToolOk(host, Iptables("-D", kPartitionOut));
}

long NetworkFaults::LostPackets(int host) {
  const HostRunResult listed =
      Tool(host, {"/usr/sbin/iptables", "-w", "5", "-L", "OUTPUT", "-v", "-x", "-n"});
  if (listed.exit_code != 0) return -1;
  std::istringstream lines(listed.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("statistic") == std::string::npos) continue;
    long packets = -1;
    std::istringstream(line) >> packets;
    return packets;
  }
  return -1;
}

namespace {
// "Sent 123 bytes 4 pkt (dropped 0, overlimits 5 requeues 0)" of `tc -s qdisc`.
bool ParseTbf(const std::string& text, long* bytes, long* overlimits) {
  static const std::regex sent(R"(Sent (\d+) bytes \d+ pkt \(dropped \d+, overlimits (\d+))");
  std::smatch match;
  if (text.find("tbf") == std::string::npos || !std::regex_search(text, match, sent)) {
    return false;
  }
  *bytes = std::stol(match[1].str());
  *overlimits = std::stol(match[2].str());
  return true;
}
}  // namespace

NetworkFaults::CapCounters NetworkFaults::CapCountersOf(int host) {
  CapCounters counters;
  const HostRunResult shown = Tool(host, {"/usr/sbin/tc", "-s", "qdisc", "show", "dev", "eth0"});
  if (shown.exit_code != 0 || !ParseTbf(shown.output, &counters.bytes, &counters.overlimits)) {
    return CapCounters();
  }
  return counters;
}

std::map<int, long> NetworkFaults::StopDelays() {
  std::map<int, long> delayed;
  for (const auto& [host, pid] : delay_pids_) hosts_->Kill(pid, SIGTERM);
  static const std::regex count(R"(packet_delay: (\d+) packets delayed)");
  for (const auto& [host, pid] : delay_pids_) {
    if (hosts_->WaitForExit(pid, kDelayStopSeconds) == -1) hosts_->Kill(pid, SIGKILL);
    const std::string log =
        ReadOrEmpty(scratch_ + "/packet_delay-" + std::to_string(host) + ".log");
    std::smatch match;
    delayed[host] = std::regex_search(log, match, count) ? std::stol(match[1].str()) : -1;
  }
  delay_pids_.clear();
  return delayed;
}

}  // namespace cloudbook::testing
