// The multi-host run on a bad network (issue 7): four hosts (network namespaces), the shared
// folder on an NFS server in host 4, one LOW agent on each of hosts 1..3, the deployer
// watching and `cloudbook-run` in host 1 (tests/integration/multihost_nfs_fixture.h). Every
// fault is set once the agents run and hold their data, then the run starts:
//   - 10% of the packets every host sends are lost,
//   - every packet waits 20 ms more (cloudbook_packet_delay),
//   - every host sends at most 8 Mbit/s (tc tbf),
//   - one agent's host is cut off (data path and shared folder alike) for less than the
//     liveness limit, then heals: nothing moves,
//   - the same for much longer than the limit: its DU moves to a live agent, and when the
//     host comes back its agent does not touch the moved DU's checkpoints.
// Each run completes and composes exactly what local mode composes for the same DUs (training
// is deterministic, and a resumed DU ends bitwise where an uninterrupted one ends), and each
// test checks from the kernel's counters that its fault really bit.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <iostream>
#include <regex>
#include <thread>

#include "shared/formats/assignment.h"
#include "shared/json_io.h"
#include "tests/fault/fault_checks.h"
#include "tests/fault/network_faults.h"
#include "tests/integration/multihost_nfs_fixture.h"
#include "tests/test_support.h"

namespace cloudbook::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kHosts = 4;  // 1..3 agents, 4 the NFS server
constexpr const char* kTrainLimit = "30000";
// Agents announce and ping every 0.5 s. Loss, delay and the cap keep the default liveness
// limit (15 s: the shared folder is on the same bad network, and announcements written over
// NFS with 10% loss can take seconds); partitions use 6 s, so that a short one stays well
// under it and a long one well over it.
constexpr double kDefaultLivenessSeconds = 15;
constexpr double kPartitionLivenessSeconds = 6;
constexpr double kShortPartitionSeconds = 2;
constexpr double kLongPartitionSeconds = 20;

std::string Bin(const std::string& name) { return std::string(CLOUDBOOK_BIN_DIR) + "/" + name; }

// How long a partition lasts is the fault itself, not a wait for something to happen.
void KeepCutFor(double seconds) {
  if (seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

class NetworkFault : public MultihostNfsTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(MultihostNfsTest::SetUp());
    if (IsSkipped()) return;
    faults_ = std::make_unique<NetworkFaults>(hosts_.get(), scratch_.path());
  }
  void TearDown() override {
    faults_.reset();
    if (HasFailure()) KeepLogs();
    MultihostNfsTest::TearDown();
  }

  // A failed test's logs (agents, deployer, run, delay programs) go to
  // test-artifacts/network-fault/<test>/ in the build folder: these runs are long to repeat.
  void KeepLogs() const {
    const std::string kept = std::string(CLOUDBOOK_BIN_DIR) + "/../test-artifacts/network-fault/" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name();
    boost::system::error_code error;
    fs::create_directories(kept, error);
    for (const fs::directory_entry& entry : fs::directory_iterator(scratch_.path(), error)) {
      if (entry.path().extension() == ".log") {
        fs::copy_file(entry.path(), kept + "/" + entry.path().filename().string(),
                      fs::copy_options::overwrite_existing, error);
      }
    }
    std::cout << "logs kept in " << kept << "\n";
  }

  std::string SharedConfig() const override {
    return R"({"announce_interval_s": 0.5, "stats_interval_s": 0.5,
               "heartbeat_interval_s": 0.5, "liveness_timeout_s": )" +
           std::to_string(LivenessSeconds()) + "}";
  }
  virtual double LivenessSeconds() const { return kDefaultLivenessSeconds; }

  std::vector<std::string> MakerArgv(const std::string& project,
                                     const std::vector<std::string>& extra) const {
    std::vector<std::string> argv = {
        Bin("cloudbook-maker"), "--project-folder", project,        "--subnets", "3",
        "--train-limit",        kTrainLimit,        "--test-limit", "1000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // Maker, three agents running (each holding its copy of the data), the deployer watching in
  // host 1, and its first assignment spread over the hosts.
  void StartProject() {
    const HostRunResult made =
        hosts_->Run(1, MakerArgv(project_.path(), {"--distributed-folder", Location()}), 180);
    ASSERT_EQ(made.exit_code, 0) << made.output;
    for (int host = 1; host <= kAgentHosts; ++host) {
      ids_.push_back(CreateAgent(host));
      ASSERT_FALSE(ids_.back().empty());
    }
    ASSERT_NO_FATAL_FAILURE(StartAgents());
    auto deployer = hosts_->Spawn(1,
                                  {Bin("cloudbook-deployer"), "--project-folder", ProjectOf(1),
                                   "--fast-start", "--wait", "20", "-s", "0.5"},
                                  {}, DeployerLog());
    ASSERT_TRUE(deployer.ok()) << deployer.status().message();
    deployer_pid_ = *deployer;
    Result<Assignment> read(Status::NotFound("no assignment yet"));
    ASSERT_TRUE(WaitFor(
        [&] {
          read = ReadAssignment(ExportedProject());
          return read.ok();
        },
        60))
        << read.status().message() << "\n"
        << ReadIfExists(DeployerLog());
    first_ = *read;
    // Hosts 2 and 3 fetch the data when their DU is assigned: wait for it, so that the faults
    // hit the run, not the one-time copy.
    for (const DuAssignment& du : first_.dus) {
      const int host = HostOf(du.agent);
      if (host == 1) continue;
      ASSERT_TRUE(WaitFor([&] { return FetchSeconds(ReadIfExists(LogOf(du.agent))) >= 0; }, 120))
          << du.agent << " did not fetch its data\n"
          << Logs();
    }
  }

  int HostOf(const std::string& agent) const {
    for (size_t i = 0; i < ids_.size(); ++i) {
      if (ids_[i] == agent) return static_cast<int>(i) + 1;
    }
    return -1;
  }

  // A DU of the first assignment owned by an agent outside host 1, and that host.
  std::pair<int, int> RemoteDu() const {
    for (const DuAssignment& du : first_.dus) {
      if (HostOf(du.agent) > 1) return {du.du, HostOf(du.agent)};
    }
    return {-1, -1};
  }

  std::string DeployerLog() const { return scratch_.Join("deployer.log"); }
  std::string RunLog(const std::string& run) const { return scratch_.Join("run-" + run + ".log"); }

  void StartRun(const std::string& run) {
    auto pid =
        hosts_->Spawn(1,
                      {Bin("cloudbook-run"), "--project-folder", ProjectOf(1), "--run-name", run,
                       "--progress", "plain", "--timeout", "600", "--assignment-wait", "60"},
                      {}, RunLog(run));
    ASSERT_TRUE(pid.ok()) << pid.status().message();
    run_pid_ = *pid;
  }

  // The highest epoch of `du` in the run's progress lines.
  int EpochsSeen(const std::string& run, int du) const {
    return HighestEpochInProgress(ReadIfExists(RunLog(run)), du);
  }

  // Waits for the run's clean end and returns its results file.
  Json FinishRun(const std::string& run) {
    const int exit_code = hosts_->WaitForExit(run_pid_, 600);
    run_pid_ = -1;
    EXPECT_EQ(exit_code, 0) << ReadIfExists(RunLog(run)) << "\n---- deployer\n"
                            << ReadIfExists(DeployerLog()) << Logs();
    auto results = ReadJsonFile(ExportedProject() + "/results/" + run + ".json");
    EXPECT_TRUE(results.ok()) << results.status().message();
    return results.ok() ? *results : Json();
  }

  // What local mode composes for the same DUs: computed once per test process, in a plain
  // project on this disk (no network), inside host 1 like every project process.
  const Json& LocalBaseline() {
    static Json baseline;
    if (!baseline.is_null()) return baseline;
    EXPECT_TRUE(SetUpFashionMlpProject(plain_.path()));
    WriteFile(plain_.Join("distributed/config.json"), SharedConfig());
    const HostRunResult local =
        hosts_->Run(1,
                    MakerArgv(plain_.path(),
                              {"--local", "--jobs", "3", "--threads", "3", "--run-name", "local"}),
                    600);
    EXPECT_EQ(local.exit_code, 0) << local.output;
    auto results = ReadJsonFile(plain_.Join("distributed/results/local.json"));
    EXPECT_TRUE(results.ok()) << results.status().message();
    if (results.ok()) baseline = *results;
    return baseline;
  }

  // The run completed on the planned hosts and composed what local mode composes.
  void ExpectSameComposedResult(const Json& results) {
    ASSERT_TRUE(results.contains("composed")) << results.dump(2);
    const Json& local = LocalBaseline();
    ASSERT_TRUE(local.contains("composed"));
    ExpectComposedAsLocalMode(results, local);
  }

  void Report(const std::string& what, const Json& results, Clock::time_point started) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    RecordProperty("run_seconds", std::to_string(seconds));
    std::cout << what << ": run " << seconds << " s, composed accuracy "
              << results["composed"]["metrics"]["accuracy"] << ", redeploys "
              << results["redeploys"] << ", " << Placement(results) << "\n";
  }

  // Kills the deployer and the run (when still going), then the fixture's teardown.
  void StopProcesses() {
    if (deployer_pid_ > 0) {
      hosts_->Kill(deployer_pid_, SIGTERM);
      EXPECT_EQ(hosts_->WaitForExit(deployer_pid_, 20), 0) << ReadIfExists(DeployerLog());
      deployer_pid_ = -1;
    }
  }

  std::unique_ptr<NetworkFaults> faults_;
  Assignment first_;
  pid_t deployer_pid_ = -1;
  pid_t run_pid_ = -1;
};

TEST_F(NetworkFault, TenPercentPacketLossOnEveryHost) {
  ASSERT_NO_FATAL_FAILURE(StartProject());
  for (int host = 1; host <= kHosts; ++host) ASSERT_TRUE(faults_->AddLoss(host, 0.10).ok());
  const auto started = Clock::now();
  ASSERT_NO_FATAL_FAILURE(StartRun("lossy"));
  const Json results = FinishRun("lossy");
  ASSERT_NO_FATAL_FAILURE(ExpectSameComposedResult(results));
  EXPECT_EQ(results["redeploys"], 0) << "loss alone never looks like a lost agent";
  long lost = 0;
  for (int host = 1; host <= kHosts; ++host) lost += std::max(0L, faults_->LostPackets(host));
  EXPECT_GT(lost, 50) << "the loss rules dropped packets";
  Report("10% loss (" + std::to_string(lost) + " packets dropped)", results, started);
  StopProcesses();
  ASSERT_NO_FATAL_FAILURE(StopAgents());
}

TEST_F(NetworkFault, TwentyMillisecondsMoreOnEveryPacket) {
  if (!NetworkFaults::WhyNoDelay().empty()) GTEST_SKIP() << NetworkFaults::WhyNoDelay();
  ASSERT_NO_FATAL_FAILURE(StartProject());
  for (int host = 1; host <= kHosts; ++host) {
    const Status delayed = faults_->AddDelay(host, 20);
    ASSERT_TRUE(delayed.ok()) << delayed.message();
  }
  const auto started = Clock::now();
  ASSERT_NO_FATAL_FAILURE(StartRun("slow"));
  const Json results = FinishRun("slow");
  ASSERT_NO_FATAL_FAILURE(ExpectSameComposedResult(results));
  EXPECT_EQ(results["redeploys"], 0);
  long delayed = 0;
  for (const auto& [host, packets] : faults_->StopDelays()) {
    EXPECT_GT(packets, 0) << "host " << host << " delayed nothing";
    delayed += std::max(0L, packets);
  }
  Report("20 ms delay (" + std::to_string(delayed) + " packets delayed)", results, started);
  StopProcesses();
  ASSERT_NO_FATAL_FAILURE(StopAgents());
}

TEST_F(NetworkFault, EightMegabitsPerSecondPerHost) {
  ASSERT_NO_FATAL_FAILURE(StartProject());
  for (int host = 1; host <= kHosts; ++host) {
    const Status capped = faults_->CapBandwidth(host, 8000);
    ASSERT_TRUE(capped.ok()) << capped.message();
  }
  const auto started = Clock::now();
  ASSERT_NO_FATAL_FAILURE(StartRun("capped"));
  const Json results = FinishRun("capped");
  ASSERT_NO_FATAL_FAILURE(ExpectSameComposedResult(results));
  EXPECT_EQ(results["redeploys"], 0);
  long bytes = 0, overlimits = 0;
  for (int host = 1; host <= kHosts; ++host) {
    const NetworkFaults::CapCounters counters = faults_->CapCountersOf(host);
    bytes += std::max(0L, counters.bytes);
    overlimits += std::max(0L, counters.overlimits);
  }
  EXPECT_GT(bytes, 0) << "traffic went through the capped queues";
  Report("8 Mbit/s cap (" + std::to_string(bytes) + " bytes sent, " + std::to_string(overlimits) +
             " packets held back)",
         results, started);
  StopProcesses();
  ASSERT_NO_FATAL_FAILURE(StopAgents());
}

class NetworkPartition : public NetworkFault {
 protected:
  double LivenessSeconds() const override { return kPartitionLivenessSeconds; }
};

TEST_F(NetworkPartition, ShorterThanTheLivenessLimitHealsWithoutAMove) {
  ASSERT_NO_FATAL_FAILURE(StartProject());
  const auto [du, host] = RemoteDu();
  ASSERT_GT(du, 0) << ToJson(first_).dump(2);
  const auto started = Clock::now();
  ASSERT_NO_FATAL_FAILURE(StartRun("short-cut"));
  ASSERT_TRUE(WaitFor([&] { return EpochsSeen("short-cut", du) >= 1; }, 240))
      << ReadIfExists(RunLog("short-cut"));
  ASSERT_TRUE(faults_->Partition(host).ok());
  const auto cut = Clock::now();
  KeepCutFor(kShortPartitionSeconds);
  ASSERT_TRUE(faults_->Heal(host).ok());
  const double cut_s = std::chrono::duration<double>(Clock::now() - cut).count();
  const Json results = FinishRun("short-cut");
  ASSERT_NO_FATAL_FAILURE(ExpectSameComposedResult(results));
  EXPECT_EQ(results["redeploys"], 0) << "a short partition moves nothing\n"
                                     << ReadIfExists(DeployerLog());
  Result<Assignment> last = ReadAssignment(ExportedProject());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->version, first_.version) << ToJson(*last).dump(2);
  Report("partition of host " + std::to_string(host) + " for " + std::to_string(cut_s) + " s",
         results, started);
  StopProcesses();
  ASSERT_NO_FATAL_FAILURE(StopAgents());
}

TEST_F(NetworkPartition, LongerThanTheLivenessLimitMovesTheDuAndTheRunCompletes) {
  ASSERT_NO_FATAL_FAILURE(StartProject());
  const auto [du, host] = RemoteDu();
  ASSERT_GT(du, 0) << ToJson(first_).dump(2);
  const std::string victim = ids_[host - 1];
  const auto started = Clock::now();
  ASSERT_NO_FATAL_FAILURE(StartRun("long-cut"));
  ASSERT_TRUE(WaitFor([&] { return EpochsSeen("long-cut", du) >= 1; }, 240))
      << ReadIfExists(RunLog("long-cut"));
  ASSERT_TRUE(faults_->Partition(host).ok());
  const auto cut = Clock::now();

  // The DU moves to a live agent under a newer assignment version while the host is away.
  int64_t moved_version = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        Result<Assignment> now = ReadAssignment(ExportedProject());
        if (!now.ok() || now->version <= first_.version) return false;
        const DuAssignment* entry = now->Find(du);
        if (entry == nullptr || entry->agent == victim) return false;
        moved_version = now->version;
        return true;
      },
      kLongPartitionSeconds))
      << ReadIfExists(DeployerLog());
  const double moved_after_s = std::chrono::duration<double>(Clock::now() - cut).count();
  // Heal once the partition has lasted its full length.
  KeepCutFor(kLongPartitionSeconds - std::chrono::duration<double>(Clock::now() - cut).count());
  ASSERT_TRUE(faults_->Heal(host).ok());

  const Json results = FinishRun("long-cut");
  ASSERT_NO_FATAL_FAILURE(ExpectSameComposedResult(results));
  EXPECT_GE(results["redeploys"].get<int>(), 1) << results.dump(2);
  const Json& record = results["dus"][du];
  ASSERT_GE(record["agents"].size(), 2u) << results.dump(2);
  EXPECT_EQ(record["agents"][0], victim);
  EXPECT_NE(record["ran_on"], victim);

  // Every checkpoint of the moved DU belongs to the new owner's version or later, also once
  // the cut-off agent is back (it stops its stale training; the fence refuses its writes).
  ASSERT_TRUE(WaitFor(
      [&] {
        auto announcement = HostAnnouncement(victim);
        return announcement.ok() && announcement->status == AgentRunState::kRunning;
      },
      30))
      << "the cut-off agent announces itself again after the heal\n"
      << ReadIfExists(LogOf(victim));
  ASSERT_NO_FATAL_FAILURE(ExpectFinalCheckpointsFromVersion(
      ExportedProject() + "/checkpoints/du_" + std::to_string(du), moved_version));
  Report("partition of host " + std::to_string(host) + " for " +
             std::to_string(kLongPartitionSeconds) + " s (DU " + std::to_string(du) +
             " moved after " + std::to_string(moved_after_s) + " s)",
         results, started);
  StopProcesses();
  ASSERT_NO_FATAL_FAILURE(StopAgents());
}

}  // namespace
}  // namespace cloudbook::testing
