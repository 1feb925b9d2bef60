// Three hosts in network namespaces (NetnsHosts) share one project folder, the filesystem
// being common to all: an agent launched inside each host announces an endpoint on its
// host's 10.77.<k>.x address, and a call made from inside host 1 reaches the agent on host 3
// over CURVE through the namespace network. The agents then stop cleanly on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>

#include "tests/integration/agent_process.h"
#include "tests/integration/netns_hosts.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::NetnsHosts;

class MultihostAgents : public testing::AgentProcessTest {
 protected:
  void SetUp() override {
    const std::string why = NetnsHosts::WhyUnavailable();
    if (!why.empty()) GTEST_SKIP() << why;
    AgentProcessTest::SetUp();  // project folder, 1 s announcement interval
    auto hosts = NetnsHosts::Create(3);
    ASSERT_TRUE(hosts.ok()) << hosts.status().message();
    hosts_ = std::move(*hosts);
  }

  // Launches agent `id` inside `host`; its output goes to launch-<id>.log.
  pid_t LaunchOnHost(int host, const std::string& id) {
    auto pid = hosts_->Spawn(
        host, {testing::Agent(), "launch", "--project-folder", project_.path(), "--agent-id", id},
        {}, LogOf(id));
    EXPECT_TRUE(pid.ok()) << pid.status().message();
    return pid.ok() ? *pid : -1;
  }

  std::string LogOf(const std::string& id) const { return scratch_.Join("launch-" + id + ".log"); }

  std::string Logs(const std::vector<std::string>& ids) const {
    std::string text;
    for (const std::string& id : ids) {
      text += "---- " + id + "\n" +
              (fs::exists(LogOf(id)) ? testing::ReadFileOrDie(LogOf(id)) : "(no log)\n");
    }
    return text;
  }

  std::unique_ptr<NetnsHosts> hosts_;
};

TEST_F(MultihostAgents, AgentsOnThreeHostsTalkOverTheNamespaceNetwork) {
  const std::string subnet = " --subnet " + hosts_->Subnet();
  const std::vector<std::string> ids = {Create("--grant HIGH --agent-0" + subnet),
                                        Create("--grant MEDIUM" + subnet),
                                        Create("--grant LOW" + subnet)};
  ASSERT_EQ(ids[0], "agent-0");
  // The caller of `call` is an agent of host 1 of its own: a launched agent already holds
  // its id's connection to every peer, and a call under the same id would be refused.
  const std::string caller = Create("--grant LOW" + subnet);

  std::vector<pid_t> pids;
  for (int host = 1; host <= 3; ++host) {
    pids.push_back(LaunchOnHost(host, ids[host - 1]));
    ASSERT_GT(pids.back(), 0);
  }

  // Each announces itself running, on its own host's address.
  for (int host = 1; host <= 3; ++host) {
    const std::string& id = ids[host - 1];
    const std::string endpoint = "tcp://" + hosts_->Address(host) + ":";  // then the port
    std::string seen;
    const bool running = WaitFor(
        [&] {
          auto announcement = ReadAnnouncement(id);
          if (!announcement.ok()) return false;
          seen = announcement->endpoint;
          return announcement->status == AgentRunState::kRunning &&
                 announcement->endpoint.rfind(endpoint, 0) == 0;
        },
        30);
    ASSERT_TRUE(running) << id << " on host " << host << " (" << hosts_->Address(host)
                         << ") announced '" << seen << "'\n"
                         << Logs(ids);
  }

  // From inside host 1, over CURVE, to the agent on host 3 (10.77.<k>.3).
  const testing::HostRunResult status = hosts_->Run(
      1,
      {testing::Agent(), "call", "--project-folder", project_.path(), "--agent-id", caller,
       "--peer", ids[2], "--function", "status", "--du", "0", "--timeout", "20"},
      40);
  EXPECT_EQ(status.exit_code, 0) << status.output << Logs(ids);
  EXPECT_NE(status.output.find("result"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("state=idle"), std::string::npos) << status.output;
  EXPECT_TRUE(WaitFor(
      [&] {
        return testing::ReadFileOrDie(LogOf(ids[2])).find(caller + " asks for status of DU 0") !=
               std::string::npos;
      },
      5))
      << "the agent on host 3 knows the caller by its authenticated id\n"
      << Logs({ids[2]});

  // A clean stop of each, by pid: exit code 0 within a bound.
  for (size_t i = 0; i < pids.size(); ++i) {
    ASSERT_TRUE(hosts_->Kill(pids[i], SIGTERM)) << ids[i];
  }
  for (size_t i = 0; i < pids.size(); ++i) {
    EXPECT_EQ(hosts_->WaitForExit(pids[i], 20), 0) << ids[i] << "\n" << Logs({ids[i]});
    auto announcement = ReadAnnouncement(ids[i]);
    ASSERT_TRUE(announcement.ok()) << announcement.status().message();
    EXPECT_EQ(announcement->status, AgentRunState::kStopping) << ids[i];
  }
}

}  // namespace
}  // namespace cloudbook
