// One deployer per project (issue 15): the lease in the shared folder, run by two real
// LeaseKeepers on one local folder with short intervals. The waiting keeper's pause function
// is where the holder renews, as a second process would while the first one waits.
#include "deployer/lease_keeper.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "shared/shared_files.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

constexpr LeaseTiming kFast{/*renew_every_s=*/0.05, /*settle_s=*/0.05, /*watch_every_s=*/0.02};
constexpr double kLimitS = 0.3;

// Sleeps for the keeper (its own wait, as Deployer::Pause does) and runs `beside` meanwhile.
std::function<bool(double)> PauseWith(std::function<void()> beside = [] {}) {
  return [beside](double seconds) {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::microseconds(int64_t(seconds * 1e6));
    while (std::chrono::steady_clock::now() < until) {
      beside();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  };
}

class DeployerLeaseTest : public ::testing::Test {
 protected:
  std::string Path() const { return folder_.Join("deployer.json"); }
  LeaseKeeper Keeper(const std::string& host, int64_t pid) {
    return LeaseKeeper(Path(), kLimitS, host, pid, kFast);
  }
  testing::ScratchDir folder_;
};

TEST_F(DeployerLeaseTest, FormatRoundTripsAndBadFilesAreRefusedWithTheirName) {
  DeployerLease lease;
  lease.holder = "h:1:ab";
  lease.host = "h";
  lease.pid = 1;
  lease.sequence = 9;
  ASSERT_TRUE(WriteDeployerLease(Path(), lease).ok());
  const auto read = ReadDeployerLease(Path());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(ToJson(*read), ToJson(lease));
  testing::WriteFile(Path(), R"({"format_version": 1, "holder": "", "host": "h"})");
  const auto bad = ReadDeployerLease(Path());
  EXPECT_EQ(bad.status().code(), Status::Code::kCorruption);
  EXPECT_NE(bad.status().message().find("deployer.json"), std::string::npos);
  EXPECT_EQ(ReadDeployerLease(folder_.Join("none.json")).status().code(), Status::Code::kNotFound);
}

TEST_F(DeployerLeaseTest, ASecondDeployerIsRefusedWhileTheHolderRenews) {
  LeaseKeeper first = Keeper("host-a", 1);
  ASSERT_EQ(first.Acquire(PauseWith()), LeaseKeeper::Outcome::kHeld);
  LeaseKeeper second = Keeper("host-b", 2);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(second.Acquire(PauseWith([&] { first.Renew(); })), LeaseKeeper::Outcome::kBusy);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
            kLimitS * 3);
  EXPECT_NE(second.message().find("the deployer on host-a (pid 1) is running"), std::string::npos)
      << second.message();
  EXPECT_FALSE(second.held());
  EXPECT_EQ(first.Renew(true), LeaseKeeper::Outcome::kHeld);
}

TEST_F(DeployerLeaseTest, ASilentHolderIsTakenOverAfterItsLimitAndThenStops) {
  LeaseKeeper first = Keeper("host-a", 1);
  ASSERT_EQ(first.Acquire(PauseWith()), LeaseKeeper::Outcome::kHeld);
  // `first` stops renewing (killed, stopped, its machine gone).
  LeaseKeeper second = Keeper("host-b", 2);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(second.Acquire(PauseWith()), LeaseKeeper::Outcome::kHeld);
  EXPECT_GE(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
            kLimitS);
  // The old holder wakes up: it must find out at its next renewal and write nothing more.
  EXPECT_EQ(first.Renew(true), LeaseKeeper::Outcome::kBusy);
  EXPECT_NE(first.message().find("the deployer on host-b (pid 2) took the project over"),
            std::string::npos)
      << first.message();
  EXPECT_FALSE(first.held());
  first.Release();  // not its lease any more: left alone
  EXPECT_EQ(ReadDeployerLease(Path())->holder.rfind("host-b:2:", 0), 0u);
  EXPECT_EQ(second.Renew(true), LeaseKeeper::Outcome::kHeld);
  second.Release();
  EXPECT_EQ(ReadDeployerLease(Path()).status().code(), Status::Code::kNotFound);
}

TEST_F(DeployerLeaseTest, ADeadHolderOnThisHostIsTakenOverAtOnce) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // a pid that no longer exists
  LeaseKeeper dead = LeaseKeeper(Path(), 60, "this-host", child, kFast);
  ASSERT_EQ(dead.Acquire(PauseWith()), LeaseKeeper::Outcome::kHeld);
  LeaseKeeper next = LeaseKeeper(Path(), 60, "this-host", ::getpid(), kFast);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(next.Acquire(PauseWith()), LeaseKeeper::Outcome::kHeld);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5);
}

TEST_F(DeployerLeaseTest, AMalformedOrRemovedLeaseIsRewritten) {
  testing::WriteFile(Path(), "{ garbage");
  LeaseKeeper keeper = Keeper("host-a", 1);
  ASSERT_EQ(keeper.Acquire(PauseWith()), LeaseKeeper::Outcome::kHeld);
  ASSERT_TRUE(RemovePath(Path()).ok());
  EXPECT_EQ(keeper.Renew(true), LeaseKeeper::Outcome::kHeld);
  EXPECT_EQ(ReadDeployerLease(Path())->host, "host-a");
}

TEST_F(DeployerLeaseTest, AStopDuringTheWaitEndsTheAcquisition) {
  LeaseKeeper first = Keeper("host-a", 1);
  ASSERT_EQ(first.Acquire(PauseWith()), LeaseKeeper::Outcome::kHeld);
  LeaseKeeper second = Keeper("host-b", 2);
  EXPECT_EQ(second.Acquire([](double) { return false; }), LeaseKeeper::Outcome::kStopped);
  EXPECT_EQ(ReadDeployerLease(Path())->host, "host-a");
}

}  // namespace
}  // namespace cloudbook
