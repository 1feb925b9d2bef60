// The main job end to end with real processes: cloudbook-maker, three cloudbook-agent
// processes, cloudbook-deployer and cloudbook-run on a Fashion-MNIST slice. The composed
// result equals local mode's for the same seeds; a SIGKILLed agent's DU moves to a live agent
// and resumes from its checkpoint; the launcher's errors are clear.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <set>
#include <sstream>

#include "shared/exit_codes.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/assignment.h"
#include "shared/json_io.h"
#include "tests/integration/agent_process.h"
#include "tests/local_mode_reference.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::CommandResult;

std::string Bin(const std::string& name) { return std::string(CLOUDBOOK_BIN_DIR) + "/" + name; }

class DistributedRun : public testing::AgentProcessTest {
 protected:
  void SetUp() override {
    if (!testing::SetUpFashionMlpProject(project_.path())) {
      GTEST_SKIP() << "Fashion-MNIST is not installed";
    }
    // Short intervals: a lost agent is declared within about three seconds.
    testing::WriteFile(project_.Join("distributed/config.json"),
                       R"({"announce_interval_s": 0.5, "stats_interval_s": 0.5,
                           "heartbeat_interval_s": 0.5, "liveness_timeout_s": 3})");
  }

  CommandResult Shell(const std::string& command) {
    return testing::RunShell(command, scratch_.Join("shell-stderr.txt"));
  }

  void Make(int subnets, int train_limit) {
    const CommandResult made =
        Shell(Bin("cloudbook-maker") + " " + P() + " --subnets " + std::to_string(subnets) +
              " --train-limit " + std::to_string(train_limit) + " --test-limit 1000");
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }

  bool WaitRunning(const std::string& id) {
    return WaitFor(
        [&] {
          auto announcement = ReadAnnouncement(id);
          return announcement.ok() && announcement->status == AgentRunState::kRunning;
        },
        60);
  }

  // Creates and launches agents; the first is agent 0.
  std::vector<std::string> StartAgents(const std::vector<std::string>& grants) {
    std::vector<std::string> ids;
    for (size_t i = 0; i < grants.size(); ++i) {
      ids.push_back(Create("--grant " + grants[i] + (i == 0 ? " --agent-0" : "")));
    }
    for (const std::string& id : ids) pids_[id] = Launch(id);
    for (const std::string& id : ids) EXPECT_TRUE(WaitRunning(id)) << id << "\n" << LaunchLog();
    return ids;
  }

  pid_t StartDeployer(const std::string& extra) {
    std::vector<std::string> arguments = {Bin("cloudbook-deployer"), "--project-folder",
                                          project_.path(), "--wait", "20"};
    std::istringstream words(extra);
    for (std::string word; words >> word;) arguments.push_back(word);
    return Spawn(arguments, "deployer.log");
  }

  bool WaitForAssignment() {
    return WaitFor([&] { return ReadAssignment(project_.Join("distributed")).ok(); }, 30);
  }

  CommandResult RunLauncher(const std::string& run_name, const std::string& extra = "") {
    return Shell(Bin("cloudbook-run") + " " + P() + " --run-name " + run_name +
                 " --progress plain --timeout 300 --assignment-wait 30" + extra);
  }

  Json Results(const std::string& run_name) {
    auto results = ReadJsonFile(project_.Join("distributed/results/" + run_name + ".json"));
    EXPECT_TRUE(results.ok()) << results.status().message();
    return results.ok() ? *results : Json();
  }

  // Local mode (its defaults) on the same slice: the distributed `results` hold its bits.
  void ExpectSameBitsAsLocalMode(const Json& results, const std::string& slice) {
    testing::ExpectSameBitsAs(
        results, testing::LocalModeResults(project_.path(), slice, scratch_.Join("local.err")));
  }

  std::map<std::string, pid_t> pids_;
};

// Issue 15 item 5: a DU's result depends only on its DU file and data, so a run composes the
// same bits as local mode whatever the placement: here agent 0 lends two threads and may hold
// two DUs side by side, the helper one, and local mode trains two subnets at a time.
TEST_F(DistributedRun, TwoAgentsComposeBitForBitWhatLocalModeComposes) {
  Make(3, 3000);
  const auto ids = StartAgents({"HIGH", "LOW"});
  StartDeployer("--fast-start");
  ASSERT_TRUE(WaitForAssignment()) << Log("deployer.log");

  const CommandResult run = RunLauncher("agents");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << Log("deployer.log");
  EXPECT_NE(run.out.find("composed: accuracy"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("epoch 7/7"), std::string::npos) << "progress lines\n" << run.out;
  const Json agents = Results("agents");
  // Each DU ran where the deployer put it (it balances by measured speed).
  auto assignment = ReadAssignment(project_.Join("distributed"));
  ASSERT_TRUE(assignment.ok());
  ASSERT_EQ(agents["dus"].size(), assignment->dus.size());
  for (const Json& du : agents["dus"]) {
    EXPECT_EQ(du["ran_on"], assignment->Find(du["du"].get<int>())->agent) << agents.dump(2);
  }
  EXPECT_EQ(agents["dus"][0]["ran_on"], "agent-0");
  EXPECT_EQ(agents["redeploys"], 0);

  ExpectSameBitsAsLocalMode(agents, "--subnets 3 --train-limit 3000 --test-limit 1000");
}

TEST_F(DistributedRun, AKilledAgentsDuResumesElsewhereFromItsCheckpoint) {
  Make(3, 30000);  // epochs of a second or more: time to kill an agent mid-training
  const auto ids = StartAgents({"LOW", "LOW", "LOW"});
  StartDeployer("--fast-start -s 0.5");
  ASSERT_TRUE(WaitForAssignment()) << Log("deployer.log");
  auto assignment = ReadAssignment(project_.Join("distributed"));
  ASSERT_TRUE(assignment.ok());
  // The victim: the owner of some DU other than 0 (agent 0 runs the program).
  std::string victim;
  int victim_du = -1;
  for (const DuAssignment& entry : assignment->dus) {
    if (entry.agent != "agent-0") {
      victim = entry.agent;
      victim_du = entry.du;
      break;
    }
  }
  ASSERT_FALSE(victim.empty()) << ToJson(*assignment).dump(2);

  const pid_t launcher =
      Spawn({Bin("cloudbook-run"), "--project-folder", project_.path(), "--run-name", "killed",
             "--progress", "plain", "--timeout", "600", "--assignment-wait", "30"},
            "run.log");
  // Kill the victim once its DU has finished two epochs (two progress lines).
  const std::regex epoch_line("DU " + std::to_string(victim_du) + " .*epoch ([0-9]+)/");
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string log = Log("run.log");
        int finished = 0;
        for (std::sregex_iterator it(log.begin(), log.end(), epoch_line), end; it != end; ++it) {
          finished = std::max(finished, std::stoi((*it)[1]));
        }
        return finished >= 2;
      },
      240))
      << Log("run.log");
  ASSERT_EQ(::kill(pids_[victim], SIGKILL), 0);

  const int exit_code = WaitForExit(launcher, 400);
  const std::string run_log = Log("run.log");
  ASSERT_EQ(exit_code, 0) << run_log << Log("deployer.log");
  const Json results = Results("killed");
  const Json& du = results["dus"][victim_du];
  ASSERT_EQ(du["agents"].size(), 2u) << results.dump(2);
  EXPECT_EQ(du["agents"][0], victim);
  EXPECT_NE(du["agents"][1], victim);
  EXPECT_GE(du["resumed_epochs"].get<int>(), 2) << "resumed, not restarted from epoch 0";
  EXPECT_GE(results["redeploys"].get<int>(), 1);
  EXPECT_NE(Log("deployer.log").find(victim), std::string::npos);
  // Nothing lost, nothing changed by the kill and the move.
  ExpectSameBitsAsLocalMode(results, "--subnets 3 --train-limit 30000 --test-limit 1000");
}

TEST_F(DistributedRun, OneAgentRunsMoreDusThanAgents) {
  Make(6, 1500);
  StartAgents({"LOW"});
  StartDeployer("--fast-start");
  ASSERT_TRUE(WaitForAssignment()) << Log("deployer.log");
  const CommandResult run = RunLauncher("alone", " --baseline");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const Json results = Results("alone");
  ASSERT_GT(results["dus"].size(), 1u);
  for (const Json& du : results["dus"]) EXPECT_EQ(du["ran_on"], "agent-0");
  // Agent 0 keeps both models' confusion matrices (the baseline's came back on the wire):
  // 10 x 10, every test sample counted once, the diagonal the reported accuracy.
  for (const char* model : {"composed", "baseline"}) {
    const Json& section = results[model];
    ASSERT_TRUE(section.contains("confusion")) << model << ": " << section.dump();
    ASSERT_EQ(section["confusion"].size(), 10u);
    ASSERT_EQ(section["per_class"].size(), 10u);
    int64_t total = 0, correct = 0;
    for (size_t t = 0; t < 10; ++t) {
      for (size_t p = 0; p < 10; ++p) total += section["confusion"][t][p].get<int64_t>();
      correct += section["confusion"][t][t].get<int64_t>();
    }
    EXPECT_EQ(total, results["test_samples"].get<int64_t>()) << model;
    EXPECT_NEAR(static_cast<double>(correct) / static_cast<double>(total),
                section["metrics"]["accuracy"].get<double>(), 1e-9)
        << model;
  }
}

TEST_F(DistributedRun, TheLauncherSaysWhatIsMissing) {
  Make(3, 600);
  const CommandResult help = Shell(Bin("cloudbook-run") + " --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos) << help.out;
  const CommandResult bad = Shell(Bin("cloudbook-run") + " " + P() + " --timeout -4");
  EXPECT_EQ(bad.exit_code, kExitUsage) << bad.err;

  const CommandResult no_agent_0 = RunLauncher("none");
  EXPECT_EQ(no_agent_0.exit_code, kExitUnavailable);
  EXPECT_NE(no_agent_0.err.find("--agent-0"), std::string::npos) << no_agent_0.err;

  const std::string zero = Create("--grant LOW --agent-0");
  const CommandResult not_running = RunLauncher("none");
  EXPECT_EQ(not_running.exit_code, kExitUnavailable);
  EXPECT_NE(not_running.err.find("cloudbook-agent launch"), std::string::npos) << not_running.err;

  // Launched, but no deployer has assigned anything: a clear wait, then a clear failure.
  ASSERT_GT(Launch(zero), 0);
  ASSERT_TRUE(WaitRunning(zero)) << LaunchLog();
  const CommandResult unassigned =
      Shell(Bin("cloudbook-run") + " " + P() + " --progress plain --assignment-wait 1");
  EXPECT_EQ(unassigned.exit_code, kExitUnavailable) << unassigned.out << unassigned.err;
  EXPECT_NE(unassigned.err.find("cloudbook-deployer"), std::string::npos) << unassigned.err;
}

}  // namespace
}  // namespace cloudbook
