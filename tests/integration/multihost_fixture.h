// A fixture for runs across network-namespace hosts (NetnsHosts) with one launched agent per
// host: launch each inside its host and wait until it announces itself running on that
// host's address, relaunch agent 0 while its capacity probe outruns the others (so that the
// deployer spreads the DUs over the hosts), stop them by PID, and check that each DU ran where
// the assignment put it. A test says where each host's project folder is and where the test
// process reads announcements (the shared folder on this disk: P/distributed, an NFS export).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "shared/formats/announcement.h"
#include "shared/formats/assignment.h"
#include "shared/json_io.h"
#include "tests/integration/agent_process.h"
#include "tests/integration/netns_hosts.h"
#include "tests/local_mode_reference.h"
#include "tests/test_support.h"

namespace cloudbook::testing {

// "tcp://10.77.3.2:5000" -> "10.77.3.2"; "" when not of that form.
inline std::string HostOfEndpoint(const std::string& endpoint) {
  const std::string scheme = "tcp://";
  if (endpoint.rfind(scheme, 0) != 0) return "";
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon <= scheme.size()) return "";
  return endpoint.substr(scheme.size(), colon - scheme.size());
}

class MultihostAgentsTest : public AgentProcessTest {
 protected:
  // The project folder the agent of `host` is launched from.
  virtual std::string ProjectOf(int /*host*/) const { return project_.path(); }
  // The agent's announcement as the test process reads it, only when present and valid.
  virtual Result<Announcement> HostAnnouncement(const std::string& id) const {
    return ReadAnnouncement(id);
  }

  // The maker's command line for these tests' DUs (3 subnets, a slice of Fashion-MNIST) in
  // `project`, plus `extra`.
  static std::vector<std::string> Maker(const std::string& project,
                                        const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker",
                                     "--project-folder",
                                     project,
                                     "--subnets",
                                     "3",
                                     "--train-limit",
                                     "3000",
                                     "--test-limit",
                                     "1000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // Launches the agent of `host` (ids_[host - 1]) inside it and waits until it announces
  // itself running on that host's address; notes its pid, address and measured capacity.
  void StartAgent(int host) {
    const std::string& id = ids_[host - 1];
    auto pid = hosts_->Spawn(host,
                             {Agent(), "launch", "--project-folder", ProjectOf(host), "--agent-id",
                              id, "--log-level", "debug"},
                             {}, LogOf(id));
    ASSERT_TRUE(pid.ok()) << pid.status().message();
    pids_[host] = *pid;
    std::string seen;
    const bool running = WaitFor(
        [&] {
          auto announcement = HostAnnouncement(id);
          if (!announcement.ok()) return false;
          seen = announcement->endpoint;
          gflops_of_[id] = announcement->capacity.gflops;
          return announcement->status == AgentRunState::kRunning &&
                 HostOfEndpoint(seen) == hosts_->Address(host);
        },
        90);
    ASSERT_TRUE(running) << id << " on host " << host << " (" << hosts_->Address(host)
                         << ") announced '" << seen << "'\n"
                         << Logs();
    address_of_[id] = HostOfEndpoint(seen);
  }

  // Every agent of ids_, one at a time, each running before the next starts: the capacity
  // probes (0.3 s of matrix products at launch; the deployer balances by the GFLOP/s they
  // announce) then do not compete with each other for the two cores. On a shared machine a
  // probe can still land in a quiet moment and measure several times what the others measured
  // in a busy one. Were that agent 0, it would rightly get every DU and the run would not
  // cross hosts: then agent 0 probes again (a relaunch), a few times.
  void StartAgents() {
    const int count = static_cast<int>(ids_.size());
    for (int host = 1; host <= count; ++host) ASSERT_NO_FATAL_FAILURE(StartAgent(host));
    const auto agent_0_outruns_the_others = [&] {
      double others = 0;
      for (int host = 2; host <= count; ++host)
        others = std::max(others, gflops_of_[ids_[host - 1]]);
      return gflops_of_[ids_[0]] > 1.5 * others;
    };
    for (int attempt = 0; attempt < 3 && agent_0_outruns_the_others(); ++attempt) {
      std::cout << "agent 0 probed " << gflops_of_[ids_[0]]
                << " GFLOP/s, over 1.5 times any other: relaunching it\n";
      ASSERT_NO_FATAL_FAILURE(StopAgent(1));
      ASSERT_NO_FATAL_FAILURE(StartAgent(1));
    }
  }

  // SIGTERM, then a clean exit within a bound.
  void StopAgent(int host) {
    const std::string& id = ids_[host - 1];
    ASSERT_TRUE(hosts_->Kill(pids_[host], SIGTERM)) << id;
    EXPECT_EQ(hosts_->WaitForExit(pids_[host], 20), 0) << id << "\n" << Logs();
  }

  // A clean stop of every agent, by pid: SIGTERM to all, then exit code 0 within a bound.
  void StopAgents() {
    for (const auto& [host, pid] : pids_) ASSERT_TRUE(hosts_->Kill(pid, SIGTERM)) << host;
    for (const auto& [host, pid] : pids_) {
      EXPECT_EQ(hosts_->WaitForExit(pid, 20), 0) << ids_[host - 1] << "\n" << Logs();
    }
  }

  std::string LogOf(const std::string& id) const { return scratch_.Join("launch-" + id + ".log"); }

  virtual std::string Logs() const {
    std::string text;
    for (const std::string& id : ids_) {
      text += "---- " + id + "\n" +
              (boost::filesystem::exists(LogOf(id)) ? ReadFileOrDie(LogOf(id)) : "(no log)\n");
    }
    return text;
  }

  // The deployer inside host 1 (it only reads and writes files, but every project process
  // stays in a host), planning at once over the live agents; then the assignment it wrote,
  // read from `shared_folder` on this disk, with one DU per agent over every host's agent.
  void DeployOnHost1(const std::string& shared_folder, const std::vector<std::string>& extra,
                     Assignment* assignment) {
    std::vector<std::string> argv = {std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-deployer",
                                     "--project-folder",
                                     ProjectOf(1),
                                     "--fast-start",
                                     "--wait",
                                     "20"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const HostRunResult deployed = hosts_->Run(1, argv, 60);
    ASSERT_EQ(deployed.exit_code, 0) << deployed.output;
    Result<Assignment> read(Status::NotFound("no assignment yet"));
    ASSERT_TRUE(WaitFor(
        [&] {
          read = ReadAssignment(shared_folder);
          return read.ok();
        },
        10))
        << read.status().message() << "\n"
        << deployed.output;
    *assignment = *read;
    ASSERT_EQ(assignment->dus.size(), ids_.size()) << ToJson(*assignment).dump(2);
    EXPECT_EQ(std::set<std::string>(assignment->agents.begin(), assignment->agents.end()),
              std::set<std::string>(ids_.begin(), ids_.end()))
        << "planned over every host's agent\n"
        << ToJson(*assignment).dump(2);
  }

  // `cloudbook-run` inside host 1 (agent 0's control channel listens on that host's
  // loopback), to a clean end: its output.
  void RunOnHost1(const std::string& run_name, std::string* output) {
    const HostRunResult run =
        hosts_->Run(1,
                    {std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-run", "--project-folder",
                     ProjectOf(1), "--run-name", run_name, "--progress", "plain", "--timeout",
                     "300", "--assignment-wait", "30"},
                    330);
    *output = run.output;
    ASSERT_EQ(run.exit_code, 0) << run.output << Logs();
    EXPECT_NE(run.output.find("composed: accuracy"), std::string::npos) << run.output;
  }

  // Each DU of a run's `results` ran where `assignment` put it (DU 0 on agent 0), without a
  // redeploy, on agents of at least two hosts.
  void ExpectRanWhereAssignedAcrossHosts(const Json& results, const Assignment& assignment) {
    std::set<std::string> addresses;
    ASSERT_EQ(results["dus"].size(), assignment.dus.size()) << results.dump(2);
    for (const Json& du : results["dus"]) {
      const DuAssignment* planned = assignment.Find(du["du"].get<int>());
      ASSERT_NE(planned, nullptr) << du.dump();
      EXPECT_EQ(du["ran_on"], planned->agent) << results.dump(2);
      const std::string ran_on = du["ran_on"].get<std::string>();
      ASSERT_EQ(address_of_.count(ran_on), 1u) << ran_on << " is none of this test's agents";
      addresses.insert(address_of_[ran_on]);
    }
    EXPECT_EQ(results["dus"][0]["ran_on"], "agent-0");
    EXPECT_EQ(results["redeploys"], 0);
    EXPECT_GE(addresses.size(), 2u) << "assignment\n"
                                    << ToJson(assignment).dump(2) << "\nresults\n"
                                    << results.dump(2);
  }

  // The composed result equals local mode's for the same DUs.
  // Bit for bit (issue 15: a DU's result does not depend on where it ran).
  static void ExpectComposedAsLocalMode(const Json& results, const Json& local_results) {
    ExpectSameBitsAs(results, local_results);
  }

  // "DUs on 0:10.77.3.1 ..., GFLOP/s a b c" for a test's summary line.
  std::string Placement(const Json& results) {
    std::string text = "DUs on";
    for (const Json& du : results["dus"]) {
      text += " " + du["du"].dump() + ":" + address_of_[du["ran_on"].get<std::string>()];
    }
    text += ", GFLOP/s";
    for (const std::string& id : ids_) {
      char gflops[32];
      std::snprintf(gflops, sizeof gflops, " %.1f", gflops_of_[id]);
      text += gflops;
    }
    return text;
  }

  std::unique_ptr<NetnsHosts> hosts_;
  std::vector<std::string> ids_;                   // ids_[h - 1] runs on host h
  std::map<int, pid_t> pids_;                      // host -> its agent's pid
  std::map<std::string, std::string> address_of_;  // agent id -> announced host address
  std::map<std::string, double> gflops_of_;        // agent id -> announced GFLOP/s
};

}  // namespace cloudbook::testing
