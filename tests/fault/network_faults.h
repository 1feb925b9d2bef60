// Bad networks for the hosts of a NetnsHosts (issue 7): packet loss, added delay, a bandwidth
// cap and partitions, each on a host's eth0 and made with the kernel's own tools inside that
// host's namespace (the kernel here has no netem; ../shared/recipes/README.md):
//   loss       iptables OUTPUT ... -m statistic --mode random --probability P -j DROP
//   delay      iptables OUTPUT ... -j NFQUEUE, held by cloudbook_packet_delay in the host
//   bandwidth  tc tbf on eth0 (what the host sends)
//   partition  iptables DROP of everything in and out of eth0 (the host's loopback still
//              works), inserted first so that it wins over the other rules; Heal removes it
// A fault on a host's egress hits each packet that host sends once: put the same fault on
// every host for "every packet on the network". Counters read back what the kernel did, so a
// test can tell that a fault really bit. Namespaces go away with their rules and qdiscs; the
// delay programs are children of the NetnsHosts and die with it.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "shared/status.h"
#include "tests/integration/netns_hosts.h"

namespace cloudbook::testing {

class NetworkFaults {
 public:
  // `scratch_folder` holds the delay programs' logs.
  NetworkFaults(NetnsHosts* hosts, std::string scratch_folder);
  ~NetworkFaults();  // stops the delay programs

  // Why delay cannot be injected here ("" when it can): the program was not built.
  static std::string WhyNoDelay();

  Status AddLoss(int host, double probability);
  Status AddDelay(int host, int milliseconds);
  Status CapBandwidth(int host, int kilobits_per_second);
  Status Partition(int host);
  Status Heal(int host);

  // Packets the loss rule dropped so far (-1 when it cannot be read).
  long LostPackets(int host);
  // What tbf did: bytes sent and the times it made a packet wait (overlimits); -1 when unknown.
  struct CapCounters {
    long bytes = -1;
    long overlimits = -1;
  };
  CapCounters CapCountersOf(int host);
  // Stops every delay program: packets delayed per host (-1 for one that did not report).
  std::map<int, long> StopDelays();

 private:
  HostRunResult Tool(int host, const std::vector<std::string>& argv);
  Status ToolOk(int host, const std::vector<std::string>& argv);

  NetnsHosts* hosts_;
  std::string scratch_;
  std::map<int, pid_t> delay_pids_;  // host -> its cloudbook_packet_delay
};

}  // namespace cloudbook::testing
