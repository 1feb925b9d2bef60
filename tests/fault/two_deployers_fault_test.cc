// Issue 15, two deployers: each kept its assignment in memory, nothing stopped a second one,
// and versions could go backwards (a fresh deployer after `rm assignment.json` started at 1
// while checkpoints carried 2 and 3), wedging every later run on "superseded". Real deployer
// and agent processes; checkpoints are written by hand in the checkpoint format's header
// (shared/formats/checkpoint_header.h) so that no training is needed to reach those states.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <string>

#include "shared/exit_codes.h"
#include "shared/formats/deployer_lease.h"
#include "tests/checkpoint_test_files.h"
#include "tests/integration/deployer_fixture.h"

namespace cloudbook {
namespace {

using testing::CommandResult;
using TwoDeployers = testing::DeployerProcessTest;

// A checkpoint header and metadata as an owner of version `owner_version` leaves them.
void WriteCheckpoint(const std::string& distributed, int du, int64_t owner_version) {
  const std::string folder = distributed + "/checkpoints/du_" + std::to_string(du);
  boost::filesystem::create_directories(folder);
  const Json metadata = {{"owner_version", owner_version}, {"epoch", 1}, {"subnet_index", du}};
  testing::WriteFile(folder + "/subnet_" + std::to_string(du) + ".pt",
                     testing::CheckpointBytes(metadata));
}

TEST_F(TwoDeployers, ASecondDeployerIsRefusedAndTakesOverOnlyFromOneThatIsGone) {
  if (!MakeDus()) GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
  const auto [zero, zero_pid] = LaunchAgent("--grant LOW --agent-0");
  const auto [helper, helper_pid] = LaunchAgent("--grant HIGH");
  ASSERT_TRUE(Running(zero)) << LaunchLog();
  ASSERT_TRUE(Running(helper)) << LaunchLog();

  const pid_t first = StartDeployer({"--fast-start", "-s", "0.5"}, "first.log");
  ASSERT_TRUE(WaitFor([&] { return Assigned().ok(); }, 20)) << DeployerLog("first.log");
  const Json planned = ToJson(*Assigned());

  // A second deployer, once or with surveillance, is refused while the first one renews.
  const CommandResult once = Deploy("--project-folder " + project_.path() + " --fast-start");
  EXPECT_EQ(once.exit_code, kExitConflict) << once.err;
  EXPECT_NE(once.err.find("(pid " + std::to_string(first) + ") is running for this project"),
            std::string::npos)
      << once.err;
  const pid_t refused = StartDeployer({"--fast-start", "-s", "0.5"}, "refused.log");
  EXPECT_EQ(WaitForExit(refused, 20), kExitConflict) << DeployerLog("refused.log");
  EXPECT_EQ(ToJson(*Assigned()), planned);

  // The first one is killed: a deployer on the same host takes over at once (its pid is gone)
  // and keeps the assignment in force.
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_EQ(::waitpid(first, nullptr, 0), first);
  const pid_t second = StartDeployer({"--fast-start", "-s", "0.5"}, "second.log");
  ASSERT_TRUE(WaitFor(
      [&] {
        return DeployerLog("second.log").find("assignment version 1 kept") != std::string::npos;
      },
      20))
      << DeployerLog("second.log");
  EXPECT_NE(DeployerLog("second.log").find("held the project and is gone: taking over"),
            std::string::npos)
      << DeployerLog("second.log");

  // Another machine's deployer takes the project over (this one looked silent to it): this
  // one finds out at its next renewal and stops without writing anything more.
  DeployerLease other;
  other.holder = "elsewhere:77:feed";
  other.host = "elsewhere";
  other.pid = 77;
  other.sequence = 1000;
  other.limit_s = 3;
  ASSERT_TRUE(WriteDeployerLease(project_.Join("distributed/deployer.json"), other).ok());
  EXPECT_EQ(WaitForExit(second, 20), kExitConflict) << DeployerLog("second.log");
  EXPECT_NE(
      DeployerLog("second.log").find("the deployer on elsewhere (pid 77) took the project over"),
      std::string::npos)
      << DeployerLog("second.log");
  EXPECT_EQ(ToJson(*Assigned()), planned);

  // That other machine's deployer never renews: after its limit a new one takes over.
  const CommandResult after = Deploy("--project-folder " + project_.path() + " --fast-start");
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(after.err.find("renewed nothing for"), std::string::npos) << after.err;
  EXPECT_FALSE(boost::filesystem::exists(project_.Join("distributed/deployer.json")))
      << "a clean stop gives the lease back";
}

TEST_F(TwoDeployers, VersionsNeverGoBackwards) {
  if (!MakeDus()) GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
  const auto [zero, zero_pid] = LaunchAgent("--grant LOW --agent-0");
  const auto [helper, helper_pid] = LaunchAgent("--grant HIGH");
  ASSERT_TRUE(Running(zero)) << LaunchLog();
  ASSERT_TRUE(Running(helper)) << LaunchLog();
  const std::string distributed = project_.Join("distributed");

  // Checkpoints of owners 2 and 3 and no assignment (removed by hand): the fresh plan is 4.
  WriteCheckpoint(distributed, 1, 2);
  WriteCheckpoint(distributed, 2, 3);
  const CommandResult fresh = Deploy("--project-folder " + project_.path() + " --fast-start");
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_NE(fresh.err.find("checkpoints carry owner version 3"), std::string::npos) << fresh.err;
  ASSERT_TRUE(Assigned().ok());
  EXPECT_EQ(Assigned()->version, 4);

  // An assignment in force below a checkpoint's owner is re-issued above it, owners kept.
  WriteCheckpoint(distributed, 3, 6);
  const Json owners_before = ToJson(*Assigned())["dus"];
  const CommandResult reissued = Deploy("--project-folder " + project_.path() + " --fast-start");
  ASSERT_EQ(reissued.exit_code, 0) << reissued.err;
  EXPECT_EQ(Assigned()->version, 7) << reissued.err;
  EXPECT_EQ(ToJson(*Assigned())["dus"], owners_before);

  // In surveillance: a newer version written by someone else is adopted; an older one is
  // answered with this deployer's assignment numbered above both.
  const pid_t deployer = StartDeployer({"--fast-start", "-s", "0.5"});
  ASSERT_TRUE(WaitFor(
      [&] { return DeployerLog().find("assignment version 7 kept") != std::string::npos; }, 20))
      << DeployerLog();
  Assignment newer = *Assigned();
  newer.version = 12;
  for (DuAssignment& entry : newer.dus) entry.agent = zero;
  ASSERT_TRUE(WriteAssignment(distributed, newer).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        return DeployerLog().find("version 12 written by another deployer: adopting it") !=
               std::string::npos;
      },
      20))
      << DeployerLog();
  Assignment older = newer;
  older.version = 2;
  for (DuAssignment& entry : older.dus) entry.agent = entry.du == 0 ? zero : helper;
  ASSERT_TRUE(WriteAssignment(distributed, older).ok());
  ASSERT_TRUE(WaitFor([&] { return Assigned().ok() && Assigned()->version == 13; }, 20))
      << DeployerLog();
  EXPECT_EQ(ToJson(*Assigned())["dus"], ToJson(newer)["dus"]);
  ASSERT_EQ(::kill(deployer, SIGTERM), 0);
  EXPECT_EQ(WaitForExit(deployer, 20), 0) << DeployerLog();
}

}  // namespace
}  // namespace cloudbook
