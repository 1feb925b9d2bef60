// The deployer moves a DU away from an owner that is alive and training (it judged it lost on
// a bad network, or a person reassigned it): the owner sees the newer assignment, cancels its
// own training and answers "cancelled". That answer is not the run's failure: agent 0 follows
// the assignment to the new owner, which resumes from the last checkpoint, and the run
// completes. (Found by the 10%-loss test in network_fault_test.cc: the run used to fail.)
#include <gtest/gtest.h>

#include <regex>

#include "shared/formats/assignment.h"
#include "shared/json_io.h"
#include "tests/fault/fault_checks.h"
#include "tests/integration/agent_process.h"

namespace cloudbook::testing {
namespace {

std::string Bin(const std::string& name) { return std::string(CLOUDBOOK_BIN_DIR) + "/" + name; }

using MovedDu = LocalFaultTest;

TEST_F(MovedDu, TheOwnerThatLetsGoIsFollowedToTheNewOwner) {
  ASSERT_TRUE(MakeFashionMlpDus("--subnets 3 --train-limit 30000 --test-limit 1000"));
  // One plan, no watching deployer: the move below is the only change of the assignment.
  const std::vector<std::string> ids = LaunchAgentsAndPlanOnce(3);
  ASSERT_FALSE(HasFailure());
  Result<Assignment> first = ReadAssignment(project_.Join("distributed"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  int du = -1;
  std::string owner;
  for (const DuAssignment& entry : first->dus) {
    if (entry.agent != "agent-0") {
      du = entry.du;
      owner = entry.agent;
      break;
    }
  }
  ASSERT_GT(du, 0) << ToJson(*first).dump(2);
  const std::string heir = owner == ids[1] ? ids[2] : ids[1];

  const pid_t run =
      Spawn({Bin("cloudbook-run"), "--project-folder", project_.path(), "--run-name", "moved",
             "--progress", "plain", "--timeout", "600", "--assignment-wait", "60"},
            "run.log");
  ASSERT_TRUE(WaitFor([&] { return EpochsSeen(du) >= 2; }, 240)) << Log("run.log");
  // The move, as the deployer writes it: a new version, the DU on another live agent.
  Assignment moved = *first;
  moved.version = first->version + 1;
  for (DuAssignment& entry : moved.dus) {
    if (entry.du == du) {
      entry.agent = heir;
      entry.reason = "moved by the test";
    }
  }
  ASSERT_TRUE(WriteAssignment(project_.Join("distributed"), moved).ok());

  ASSERT_EQ(WaitForExit(run, 400), 0) << Log("run.log");
  Result<Json> results = ReadJsonFile(project_.Join("distributed/results/moved.json"));
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  const Json& record = (*results)["dus"][du];
  ASSERT_EQ(record["agents"].size(), 2u) << results->dump(2);
  EXPECT_EQ(record["agents"][0], owner);
  EXPECT_EQ(record["agents"][1], heir);
  EXPECT_EQ(record["ran_on"], heir);
  EXPECT_GE(record["resumed_epochs"].get<int>(), 2) << "resumed, not restarted";
  EXPECT_EQ((*results)["redeploys"], 1);
  EXPECT_GT((*results)["composed"]["metrics"]["accuracy"].get<double>(), 0.75);
  // The first owner let go on its own, and said so; the run said what it did about it.
  EXPECT_NE(Log("launch-" + owner + ".log").find("now belongs to"), std::string::npos)
      << Log("launch-" + owner + ".log");
  EXPECT_NE(Log("run.log").find("waiting for the deployer's next assignment"), std::string::npos)
      << Log("run.log");
  ASSERT_NO_FATAL_FAILURE(ExpectFinalCheckpointsFromVersion(
      project_.Join("distributed/checkpoints/du_" + std::to_string(du)), moved.version));
}

}  // namespace
}  // namespace cloudbook::testing
