// The agent's stats file: /proc parsers on fixed examples, and the file the dashboard reads
// (distributed/stats/<id>.json, exactly that name).
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <chrono>
#include <cmath>

#include "agent/core/stats_writer.h"
#include "agent/core/system_sampler.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::ScratchDir;

TEST(SystemSampler, ProcessCpuTicksSurviveOddCommandNames) {
  const std::string stat =
      "1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 12345 "
      "1000000 500 18446744073709551615";
  auto ticks = ParseProcessCpuTicks(stat);
  ASSERT_TRUE(ticks.ok()) << ticks.status().ToString();
  EXPECT_EQ(*ticks, 300u);
  EXPECT_FALSE(ParseProcessCpuTicks("1234 no parenthesis").ok());
  EXPECT_FALSE(ParseProcessCpuTicks("1234 (x) S 1 2").ok());
}

TEST(SystemSampler, ParsesStatusStatMeminfoAndNetDev) {
  auto rss = ParseVmRssBytes("Name:\tagent\nVmPeak:\t  9000 kB\nVmRSS:\t  2048 kB\n");
  ASSERT_TRUE(rss.ok());
  EXPECT_EQ(*rss, 2048u * 1024);
  EXPECT_FALSE(ParseVmRssBytes("Name:\tagent\n").ok());

  auto cpu = ParseMachineCpuTimes(
      "cpu  100 10 50 800 40 0 0 0 0 0\ncpu0 50 5 25 400 20 0 0 0 0 0\nintr 1\n");
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ(cpu->total, 1000u);
  EXPECT_EQ(cpu->busy, 160u);

  auto memory = ParseMemInfo(
      "MemTotal:       16000 kB\nMemFree:  1000 kB\n"
      "MemAvailable:    8000 kB\n");
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ(memory->total_bytes, 16000u * 1024);
  EXPECT_EQ(memory->available_bytes, 8000u * 1024);
  EXPECT_FALSE(ParseMemInfo("MemTotal: 1 kB\n").ok());

  const std::string net_dev =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n"
      "    lo:    1000      10    0    0    0     0          0         0     1000      10    0 "
      "   0    0     0       0          0\n"
      "  eth0: 5000000    4000    0    0    0     0          0         0   300000    2000    0 "
      "   0    0     0       0          0\n"
      " wlan0:     700       7    0    0    0     0          0         0       70       1    0 "
      "   0    0     0       0          0\n";
  auto network = ParseNetDev(net_dev);
  ASSERT_TRUE(network.ok()) << network.status().ToString();
  EXPECT_EQ(network->rx, 5000700u);
  EXPECT_EQ(network->tx, 300070u);
  EXPECT_EQ(network->loopback_rx, 1000u);
  EXPECT_EQ(network->loopback_tx, 1000u);
  EXPECT_FALSE(ParseNetDev("Inter-| Receive\n face |bytes\n").ok());
}

TEST(SystemSampler, PercentagesComeFromTheDifferenceOfTwoSamples) {
  SystemSample before, after;
  after.time = before.time + std::chrono::seconds(2);
  before.machine_cpu = {100, 1000};
  after.machine_cpu = {400, 2000};
  EXPECT_DOUBLE_EQ(MachineCpuPercent(before, after), 30.0);
  EXPECT_DOUBLE_EQ(MachineCpuPercent(after, before), 0.0);  // counters never go back
  EXPECT_DOUBLE_EQ(ProcessCpuPercent(before, before), 0.0);
}

TEST(SystemSampler, SamplesThisProcess) {
  const SystemSample before = TakeSystemSample();
  // Burn a little CPU so the process percentage has something to show.
  volatile double sink = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(150);
  while (std::chrono::steady_clock::now() < until) sink = sink + std::sqrt(sink + 1.0);
  const SystemSample after = TakeSystemSample();
  EXPECT_GT(after.rss_bytes, 0u);
  EXPECT_GT(after.memory.total_bytes, 0u);
  EXPECT_GE(after.memory.total_bytes, after.memory.available_bytes);
  EXPECT_GT(after.machine_cpu.total, 0u);
  EXPECT_GT(ProcessCpuPercent(before, after), 0.0);
  EXPECT_LE(MachineCpuPercent(before, after), 100.0);
}

TEST(StatsWriter, WritesTheFileTheDashboardReads) {
  ScratchDir distributed;
  StatsWriter writer(distributed.path(), "agent-brisk-otter-3fa2");
  EXPECT_EQ(writer.path(), distributed.Join("stats/agent-brisk-otter-3fa2.json"));
  EXPECT_EQ(SharedFolderLayout(distributed.path()).stats_file("agent-brisk-otter-3fa2"),
            writer.path());
  ASSERT_TRUE(writer.Write({{2, 5, 0.4321, 1234.5678}, {4, 1, NAN, 0}}).ok());
  auto json = ReadJsonFile(writer.path());
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ((*json)["id"], "agent-brisk-otter-3fa2");
  EXPECT_EQ((*json)["format_version"], 1);
  EXPECT_GT((*json)["time"].get<int64_t>(), 0);
  EXPECT_GT((*json)["process"]["rss_bytes"].get<uint64_t>(), 0u);
  EXPECT_TRUE((*json)["process"]["cpu_percent"].is_number());
  EXPECT_TRUE((*json)["machine"]["cpu_percent"].is_number());
  EXPECT_GT((*json)["machine"]["memory_total_bytes"].get<uint64_t>(), 0u);
  EXPECT_TRUE((*json)["network"]["rx_bytes"].is_number());
  EXPECT_TRUE((*json)["network"]["loopback_tx_bytes"].is_number());
  ASSERT_EQ((*json)["dus"].size(), 2u);
  EXPECT_EQ((*json)["dus"][0]["du"], 2);
  EXPECT_EQ((*json)["dus"][0]["epoch"], 5);
  EXPECT_DOUBLE_EQ((*json)["dus"][0]["loss"].get<double>(), 0.4321);
  EXPECT_NEAR((*json)["dus"][0]["samples_per_second"].get<double>(), 1234.57, 1e-9);
  EXPECT_TRUE((*json)["dus"][1]["loss"].is_null());  // not finite yet: null, valid JSON
  ASSERT_TRUE(writer.Write({}).ok());                // rewrites in place
  EXPECT_TRUE((*ReadJsonFile(writer.path()))["dus"].empty());
}

}  // namespace
}  // namespace cloudbook
