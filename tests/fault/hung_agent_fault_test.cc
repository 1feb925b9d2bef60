// An agent that hangs (SIGSTOP) instead of dying, in the middle of a real run: the deployer
// must notice it is gone (no heartbeats, no announcements), move its DU to a live agent,
// which resumes from the last checkpoint; when the hung agent wakes up (SIGCONT) it must not
// touch the moved DU's checkpoint: it sees the newer assignment and cancels its training, and
// the checkpoint fence (owner_version) refuses its writes anyway. The run completes.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

#include "shared/formats/assignment.h"
#include "tests/fault/fault_checks.h"
#include "tests/integration/agent_process.h"

namespace cloudbook::testing {
namespace {

std::string Bin(const std::string& name) { return std::string(CLOUDBOOK_BIN_DIR) + "/" + name; }

class HungAgent : public LocalFaultTest {
 protected:
  void TearDown() override {
    for (const pid_t pid : stopped_) ::kill(pid, SIGCONT);  // never leave a stopped process
    LocalFaultTest::TearDown();
  }
  std::vector<pid_t> stopped_;
};

TEST_F(HungAgent, ItsDuMovesAndTheWokenOwnerIsFencedOff) {
  ASSERT_TRUE(MakeFashionMlpDus("--subnets 3 --train-limit 30000 --test-limit 1000"));
  const std::vector<std::string> ids = {Create("--grant LOW --agent-0"), Create("--grant LOW"),
                                        Create("--grant LOW")};
  std::map<std::string, pid_t> pids;
  for (const std::string& id : ids) pids[id] = Launch(id);
  for (const std::string& id : ids) ASSERT_TRUE(WaitUntilRunning(id, 60)) << id << LaunchLog();
  Spawn({Bin("cloudbook-deployer"), "--project-folder", project_.path(), "--wait", "20",
         "--fast-start", "-s", "0.5"},
        "deployer.log");
  ASSERT_TRUE(WaitFor([&] { return ReadAssignment(project_.Join("distributed")).ok(); }, 30));
  Result<Assignment> first = ReadAssignment(project_.Join("distributed"));
  ASSERT_TRUE(first.ok());
  std::string victim;
  int du = -1;
  for (const DuAssignment& entry : first->dus) {
    if (entry.agent != "agent-0") {
      victim = entry.agent;
      du = entry.du;
      break;
    }
  }
  ASSERT_FALSE(victim.empty()) << ToJson(*first).dump(2);

  const pid_t run =
      Spawn({Bin("cloudbook-run"), "--project-folder", project_.path(), "--run-name", "hung",
             "--progress", "plain", "--timeout", "600", "--assignment-wait", "60"},
            "run.log");
  ASSERT_TRUE(WaitFor([&] { return EpochsSeen(du) >= 2; }, 240)) << Log("run.log");
  ASSERT_EQ(::kill(pids[victim], SIGSTOP), 0);
  stopped_.push_back(pids[victim]);

  // The DU moves to a live agent under a newer assignment version.
  int64_t moved_version = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        Result<Assignment> now = ReadAssignment(project_.Join("distributed"));
        if (!now.ok() || now->version <= first->version) return false;
        const DuAssignment* entry = now->Find(du);
        if (entry == nullptr || entry->agent == victim) return false;
        moved_version = now->version;
        return true;
      },
      60))
      << Log("deployer.log");
  // Let the new owner train an epoch, then wake the hung one while the DU is still going.
  const int epochs_before = EpochsSeen(du);
  ASSERT_TRUE(WaitFor([&] { return EpochsSeen(du) > epochs_before; }, 120)) << Log("run.log");
  ASSERT_EQ(::kill(pids[victim], SIGCONT), 0);
  stopped_.clear();

  const int exit_code = WaitForExit(run, 400);
  ASSERT_EQ(exit_code, 0) << Log("run.log") << Log("deployer.log");
  Result<Json> results = ReadJsonFile(project_.Join("distributed/results/hung.json"));
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  const Json& record = (*results)["dus"][du];
  ASSERT_EQ(record["agents"].size(), 2u) << results->dump(2);
  EXPECT_EQ(record["agents"][0], victim);
  EXPECT_NE(record["agents"][1], victim);
  EXPECT_GE(record["resumed_epochs"].get<int>(), 2) << "resumed, not restarted";
  EXPECT_GT((*results)["composed"]["metrics"]["accuracy"].get<double>(), 0.75);

  // Every checkpoint of the moved DU belongs to the new owner's version or later.
  ASSERT_NO_FATAL_FAILURE(ExpectFinalCheckpointsFromVersion(
      project_.Join("distributed/checkpoints/du_" + std::to_string(du)), moved_version));
  // The woken agent stayed up and said why it stopped training that DU, and wrote no epoch
  // of it after waking (the checkpoints above are the new owner's).
  EXPECT_EQ(::kill(pids[victim], 0), 0) << "the woken agent is alive";
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::string log = Log("launch-" + victim + ".log");
        // It stops the stale training by one of its guards: the caller's heartbeats missed
        // while it slept, the newer assignment, or the checkpoint fence.
        return log.find("cancelling request") != std::string::npos ||
               log.find("DU " + std::to_string(du) + " now belongs to") != std::string::npos ||
               log.find("superseded") != std::string::npos;
      },
      30))
      << Log("launch-" + victim + ".log");
}

}  // namespace
}  // namespace cloudbook::testing
