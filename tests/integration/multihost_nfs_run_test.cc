// The main job across four hosts (network namespaces, NetnsHosts) with the shared folder on an
// NFS server: nfs-ganesha runs inside host 4, bound to its 10.77.<k>.4 address, and exports a
// folder of this disk; hosts 1..3 each have their own local project folder (original/,
// agents/, cache/) and reach the shared folder only as nfs://10.77.<k>.4:<port>/export/proj,
// through the native client (no mount). One LOW agent per host (agent 0 on host 1); the
// maker, the deployer and `cloudbook-run` inside host 1. The DUs run where the assignment put
// them, on agents of different hosts, each machine trains from its own copy of the data, and
// the composed result equals local mode's for the same DUs on a plain local project.
// The fixture is tests/integration/multihost_nfs_fixture.h.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <iostream>
#include <set>

#include "shared/formats/assignment.h"
#include "shared/json_io.h"
#include "tests/integration/multihost_nfs_fixture.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using Clock = std::chrono::steady_clock;
using testing::FetchSeconds;
using testing::HostRunResult;
using testing::kAgentHosts;
using testing::NetnsHosts;
using testing::ReadIfExists;

using MultihostNfsRun = testing::MultihostNfsTest;

TEST_F(MultihostNfsRun, ThreeHostsTrainThroughAnNfsServerOnAFourth) {
  const auto started = Clock::now();
  const HostRunResult made =
      hosts_->Run(1, Maker(project_.path(), {"--distributed-folder", Location()}), 180);
  ASSERT_EQ(made.exit_code, 0) << made.output << "\nganesha:\n" << ReadIfExists(ganesha_log_);
  ASSERT_TRUE(fs::exists(ExportedProject() + "/du_list.json")) << made.output;
  const double maker_fetch_s = FetchSeconds(made.output);
  EXPECT_GE(maker_fetch_s, 0) << "the maker checks the data from its own copy\n" << made.output;

  for (int host = 1; host <= kAgentHosts; ++host) {
    ids_.push_back(CreateAgent(host));
    ASSERT_FALSE(ids_.back().empty());
  }
  ASSERT_EQ(ids_[0], "agent-0");
  ASSERT_NO_FATAL_FAILURE(StartAgents());

  // Host 1's deployer follows P/project.json; the test reads the plan on the server's disk.
  Assignment assignment;
  ASSERT_NO_FATAL_FAILURE(DeployOnHost1(ExportedProject(), {}, &assignment));
  std::set<std::string> hosts_assigned;
  for (const DuAssignment& du : assignment.dus) hosts_assigned.insert(address_of_[du.agent]);
  EXPECT_GE(hosts_assigned.size(), 2u) << "DUs on agents of different hosts\n"
                                       << ToJson(assignment).dump(2);

  const auto run_started = Clock::now();
  std::string run_output;
  ASSERT_NO_FATAL_FAILURE(RunOnHost1("nfs", &run_output));
  const double run_s = std::chrono::duration<double>(Clock::now() - run_started).count();

  // The results are in the shared folder on the server.
  auto nfs_results = ReadJsonFile(ExportedProject() + "/results/nfs.json");
  ASSERT_TRUE(nfs_results.ok()) << nfs_results.status().message() << "\n" << run_output;
  ASSERT_NO_FATAL_FAILURE(ExpectRanWhereAssignedAcrossHosts(*nfs_results, assignment));
  ASSERT_NO_FATAL_FAILURE(StopAgents());

  // Every agent announced itself in the shared folder on the server.
  for (const std::string& id : ids_) {
    EXPECT_TRUE(HostAnnouncement(id).ok()) << id << ": " << HostAnnouncement(id).status().message();
  }
  // Each machine trained from its own copy of the data, fetched from the server once: hosts 2
  // and 3's agents fetched it; on host 1 the maker did, and agent 0 found that copy current.
  std::vector<double> fetch_s = {maker_fetch_s};
  for (int host = 1; host <= kAgentHosts; ++host) {
    const std::string log = ReadIfExists(LogOf(ids_[host - 1]));
    const double seconds = FetchSeconds(log);
    if (host == 1) {
      EXPECT_LT(seconds, 0) << "agent 0 fetched again what the maker had cached\n" << log;
    } else {
      EXPECT_GE(seconds, 0) << ids_[host - 1] << " did not fetch the data\n" << log;
      fetch_s.push_back(seconds);
    }
    EXPECT_TRUE(fs::exists(ProjectOf(host) + "/cache")) << "host " << host;
    // Nothing of the shared folder lives in a machine's project folder.
    EXPECT_FALSE(fs::exists(ProjectOf(host) + "/distributed")) << "host " << host;
  }

  // Local mode on the same DUs, in a plain project on this disk (no NFS, no network).
  ASSERT_TRUE(testing::SetUpFashionMlpProject(plain_.path()));
  testing::WriteFile(plain_.Join("distributed/config.json"), MultihostNfsRun::kShortIntervals);
  const HostRunResult local = hosts_->Run(
      1, Maker(plain_.path(), {"--local", "--jobs", "3", "--threads", "3", "--run-name", "local"}),
      300);
  ASSERT_EQ(local.exit_code, 0) << local.output;
  auto local_results = ReadJsonFile(plain_.Join("distributed/results/local.json"));
  ASSERT_TRUE(local_results.ok()) << local_results.status().message();
  ExpectComposedAsLocalMode(*nfs_results, *local_results);

  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  RecordProperty("seconds", std::to_string(seconds));
  RecordProperty("run_seconds", std::to_string(run_s));
  std::cout << "multihost NFS run: " << seconds << " s in all, cloudbook-run " << run_s
            << " s, composed accuracy " << (*nfs_results)["composed"]["metrics"]["accuracy"]
            << ", data fetch (maker, host 2, host 3)";
  for (const double s : fetch_s) std::cout << " " << s << " s";
  std::cout << ", " << Placement(*nfs_results) << "\n";
}

}  // namespace
}  // namespace cloudbook
