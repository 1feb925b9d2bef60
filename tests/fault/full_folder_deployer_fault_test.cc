// Issue 15, a full shared folder: agents could not write their announcements, so the deployer
// declared every agent lost and moved their DUs. Now it notices that it cannot write either
// (its lease), judges nobody while that lasts and counts silence again only once writes
// succeed. The shared folder is a real tmpfs of a few MB, filled with a real file.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "tests/integration/deployer_fixture.h"

namespace cloudbook {
namespace {

class FullSharedFolder : public testing::DeployerProcessTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    DeployerProcessTest::SetUp();
    const std::string config = testing::ReadFileOrDie(project_.Join("distributed/config.json"));
    const testing::CommandResult mounted = testing::RunShell(
        "mount -t tmpfs -o size=96m cloudbook-test " + project_.Join("distributed"),
        scratch_.Join("mount.err"));
    ASSERT_EQ(mounted.exit_code, 0) << mounted.err;
    mounted_ = true;
    testing::WriteFile(project_.Join("distributed/config.json"), config);
  }

  void TearDown() override {
    DeployerProcessTest::TearDown();  // agents and deployers first: they hold files there
    if (mounted_) {
      EXPECT_EQ(
          testing::RunShell("umount " + project_.Join("distributed"), scratch_.Join("umount.err"))
              .exit_code,
          0);
    }
  }

  std::string Filler() const { return project_.Join("distributed/filler.bin"); }

  bool mounted_ = false;
};

TEST_F(FullSharedFolder, TheDeployerDeclaresNobodyLostWhileNothingCanBeWritten) {
  if (!MakeDus()) GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
  const auto [zero, zero_pid] = LaunchAgent("--grant LOW --agent-0");
  const auto [helper, helper_pid] = LaunchAgent("--grant HIGH");
  ASSERT_TRUE(Running(zero)) << LaunchLog();
  ASSERT_TRUE(Running(helper)) << LaunchLog();
  const pid_t deployer = StartDeployer({"--fast-start", "-s", "0.5"});
  ASSERT_TRUE(WaitFor([&] { return Assigned().ok(); }, 20)) << DeployerLog();
  const Json planned = ToJson(*Assigned());

  // Fill every byte left (cat stops at ENOSPC).
  (void)testing::RunShell("cat /dev/zero > " + Filler(), scratch_.Join("fill.err"));
  ASSERT_TRUE(WaitFor(
      [&] { return DeployerLog().find("no agent is judged lost") != std::string::npos; }, 15))
      << DeployerLog();
  EXPECT_NE(DeployerLog().find("No space left on device"), std::string::npos) << DeployerLog();
  // Three liveness timeouts (2 s) without a single announcement: nobody is declared lost.
  EXPECT_FALSE(WaitFor([&] { return DeployerLog().find(" lost (") != std::string::npos; }, 6))
      << DeployerLog();

  ASSERT_EQ(testing::RunShell("rm -f " + Filler(), scratch_.Join("rm.err")).exit_code, 0);
  ASSERT_TRUE(
      WaitFor([&] { return DeployerLog().find("takes writes again") != std::string::npos; }, 15))
      << DeployerLog();
  // Agents write again within an announce interval: still nobody lost, nothing moved.
  EXPECT_FALSE(WaitFor([&] { return DeployerLog().find(" lost (") != std::string::npos; }, 4))
      << DeployerLog();
  EXPECT_EQ(ToJson(*Assigned()), planned);
  ASSERT_EQ(::kill(deployer, SIGTERM), 0);
  EXPECT_EQ(WaitForExit(deployer, 20), 0) << DeployerLog();
}

}  // namespace
}  // namespace cloudbook
