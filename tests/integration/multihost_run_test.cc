// The main job across three hosts (network namespaces, NetnsHosts) that share one project
// folder: one LOW agent per host, each published on its own host's 10.77.<k>.x address, the
// deployer and `cloudbook-run` inside host 1 (agent 0's control channel is on host 1's
// loopback). The DUs run where the assignment put them, on agents of different hosts, and
// the composed result equals local mode's for the same DUs.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "shared/formats/assignment.h"
#include "shared/json_io.h"
#include "tests/integration/multihost_fixture.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::HostRunResult;
using testing::NetnsHosts;

constexpr int kHosts = 3;

class MultihostRun : public testing::MultihostAgentsTest {
 protected:
  void SetUp() override {
    const std::string why = NetnsHosts::WhyUnavailable();
    if (!why.empty()) GTEST_SKIP() << why;
    if (!testing::SetUpFashionMlpProject(project_.path())) {
      GTEST_SKIP() << "Fashion-MNIST is not installed";
    }
    // Short intervals, as in distributed_run_test.cc.
    testing::WriteFile(project_.Join("distributed/config.json"),
                       R"({"announce_interval_s": 0.5, "stats_interval_s": 0.5,
                           "heartbeat_interval_s": 0.5, "liveness_timeout_s": 3})");
    auto hosts = NetnsHosts::Create(kHosts);
    ASSERT_TRUE(hosts.ok()) << hosts.status().message();
    hosts_ = std::move(*hosts);
  }

  Json Results(const std::string& run_name) {
    auto results = ReadJsonFile(project_.Join("distributed/results/" + run_name + ".json"));
    EXPECT_TRUE(results.ok()) << results.status().message();
    return results.ok() ? *results : Json();
  }
};

TEST_F(MultihostRun, ThreeHostsComposeWhatLocalModeComposes) {
  const auto started = std::chrono::steady_clock::now();
  const HostRunResult made = hosts_->Run(1, Maker(project_.path(), {}), 120);
  ASSERT_EQ(made.exit_code, 0) << made.output;

  // LOW = one core each: the same libtorch threads per subnet as local mode with
  // --jobs 3 --threads 3, hence the same numbers.
  const std::string subnet = " --subnet " + hosts_->Subnet();
  for (int host = 1; host <= kHosts; ++host) {
    ids_.push_back(Create("--grant LOW" + std::string(host == 1 ? " --agent-0" : "") + subnet));
    ASSERT_FALSE(ids_.back().empty());
  }
  ASSERT_EQ(ids_[0], "agent-0");
  ASSERT_NO_FATAL_FAILURE(StartAgents());

  Assignment assignment;
  ASSERT_NO_FATAL_FAILURE(DeployOnHost1(project_.Join("distributed"), {}, &assignment));
  std::string run_output;
  ASSERT_NO_FATAL_FAILURE(RunOnHost1("hosts", &run_output));

  // Each DU ran where the assignment put it; agents of at least two hosts took part.
  const Json hosts_results = Results("hosts");
  ASSERT_NO_FATAL_FAILURE(ExpectRanWhereAssignedAcrossHosts(hosts_results, assignment));
  ASSERT_NO_FATAL_FAILURE(StopAgents());

  // Local mode on the same DUs. It touches no network; host 1 is as good as any place.
  const HostRunResult local = hosts_->Run(
      1,
      Maker(project_.path(), {"--local", "--jobs", "3", "--threads", "3", "--run-name", "local"}),
      300);
  ASSERT_EQ(local.exit_code, 0) << local.output;
  const Json local_results = Results("local");
  ExpectComposedAsLocalMode(hosts_results, local_results);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  RecordProperty("seconds", std::to_string(seconds));
  std::cout << "multihost run: " << seconds << " s, composed accuracy "
            << hosts_results["composed"]["metrics"]["accuracy"] << ", " << Placement(hosts_results)
            << "\n";
}

}  // namespace
}  // namespace cloudbook
