// The SharedFolder conformance suite against the rclone back end (fs_adapters/
// rclone_shared_folder.h), through real rclone processes on loopback: `rclone serve webdav`
// and `rclone serve sftp` stand in for a cloud remote (connection strings, no config file),
// and the back end's own `rclone rcd` talks to them. Every client of a test is its own
// RcloneSharedFolder; they share the process's one rcd, which is the design (one rcd per
// cloudbook process). Then what is rclone-only: the rcd killed under a folder, the remote
// restarted in the middle of a write, a remote gone for good, a remote nobody configured,
// and the time of a small write and read. Skipped, with the reason, when rclone is missing.
#include <signal.h>

#include <boost/filesystem.hpp>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

#include "fs_adapters/open_shared_folder.h"
#include "fs_adapters/rclone_daemon.h"
#include "fs_adapters/rclone_shared_folder.h"
#include "tests/loopback_servers.h"

#define CLOUDBOOK_CONFORMANCE_INSTANTIATE_ONLY  // shared_folder_nfs_test.cc defines the tests
#include "tests/shared_folder_conformance.h"

namespace cloudbook::testing {
namespace {

namespace fs = boost::filesystem;
using Clock = std::chrono::steady_clock;

// The two servers for the whole test process, each started by the first test that needs it.
struct SharedServers {
  ScratchDir scratch;
  std::unique_ptr<RcloneWebdavServer> webdav;
  std::unique_ptr<RcloneSftpServer> sftp;
  std::string webdav_error;
  std::string sftp_error;
  int next_folder = 0;
};

SharedServers* g_servers = nullptr;

SharedServers& Servers() {
  if (g_servers == nullptr) g_servers = new SharedServers;
  return *g_servers;
}

// The rcd reads the user's rclone config; these tests use connection strings only.
class RcloneTestEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ::setenv("RCLONE_CONFIG", "/dev/null", 1); }
  void TearDown() override {
    delete g_servers;  // stops the servers by PID
    g_servers = nullptr;
  }
};
::testing::Environment* const kRcloneEnvironment =
    ::testing::AddGlobalTestEnvironment(new RcloneTestEnvironment);

// A fresh sub-folder of a served folder per test, reached through an rclone remote string.
class RcloneTarget : public SharedFolderTarget {
 public:
  RcloneTarget(std::string host_path, std::string location)
      : host_path_(std::move(host_path)), location_(std::move(location)) {
    fs::create_directories(host_path_);
  }
  Result<std::unique_ptr<SharedFolder>> OpenClient() override {
    return OpenSharedFolder(location_);  // the remote:path branch
  }
  std::string HostPath() const override { return host_path_; }

 private:
  std::string host_path_;
  std::string location_;
};

// Starts `server` (once: `error` keeps the outcome) and gives the test a fresh folder in it.
// Skips only when rclone is missing; a server that does not start is a failure.
template <typename Server>
std::unique_ptr<SharedFolderTarget> MakeTarget(std::unique_ptr<Server>& server, std::string& error,
                                               const std::string& kind, std::string* skip_reason) {
  *skip_reason = RcloneWebdavServer::WhyUnavailable();
  if (!skip_reason->empty()) return nullptr;
  SharedServers& servers = Servers();
  if (server == nullptr && error.empty()) {
    server = std::make_unique<Server>(servers.scratch.Join(kind), FreeLoopbackPort());
    error = server->Start(servers.scratch.Join(kind + ".log"));
    if (!error.empty()) server.reset();
  }
  if (server == nullptr) {
    ADD_FAILURE() << "rclone is installed but serve " << kind << " did not start: " << error;
    *skip_reason = error;
    return nullptr;
  }
  const std::string folder = "t" + std::to_string(servers.next_folder++);
  return std::make_unique<RcloneTarget>(server->ServedDir() + "/" + folder, server->Remote(folder));
}

std::unique_ptr<SharedFolderTarget> MakeWebdavTarget(std::string* skip_reason) {
  return MakeTarget(Servers().webdav, Servers().webdav_error, "webdav", skip_reason);
}

std::unique_ptr<SharedFolderTarget> MakeSftpTarget(std::string* skip_reason) {
  return MakeTarget(Servers().sftp, Servers().sftp_error, "sftp", skip_reason);
}

INSTANTIATE_TEST_SUITE_P(Rclone, SharedFolderConformance,
                         ::testing::Values(SharedFolderBackend{"RcloneWebdav", MakeWebdavTarget},
                                           SharedFolderBackend{"RcloneSftp", MakeSftpTarget}),
                         SharedFolderBackendName);

// A webdav server of its own per test (these tests stop and restart it).
class RcloneBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = RcloneWebdavServer::WhyUnavailable();
    if (!why.empty()) GTEST_SKIP() << why;
    server_ = std::make_unique<RcloneWebdavServer>(scratch_.Join("served"), FreeLoopbackPort());
    ASSERT_EQ(server_->Start(scratch_.Join("webdav.log")), "");
    fs::create_directories(server_->ServedDir() + "/project");
  }

  static RcloneOptions Budget(int retry_budget_ms) {
    RcloneOptions options;
    options.retry_budget = std::chrono::milliseconds(retry_budget_ms);
    return options;
  }

  std::unique_ptr<RcloneSharedFolder> Open(RcloneOptions options = {}) {
    Result<std::unique_ptr<RcloneSharedFolder>> folder =
        RcloneSharedFolder::Open(server_->Remote("project"), options);
    EXPECT_TRUE(folder.ok()) << folder.status().ToString();
    return folder.ok() ? std::move(folder).value() : nullptr;
  }

  std::string HostFile(const std::string& name) const {
    return server_->ServedDir() + "/project/" + name;
  }

  ScratchDir scratch_;
  std::unique_ptr<RcloneWebdavServer> server_;
};

// The rcd dies (killed by its PID): the next operation starts a new one and succeeds; the
// folders that share it carry on.
TEST_F(RcloneBackendTest, KilledRcdIsRestartedByTheNextOperation) {
  std::unique_ptr<RcloneSharedFolder> folder = Open();
  std::unique_ptr<RcloneSharedFolder> other = Open();
  ASSERT_NE(folder, nullptr);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(&folder->daemon(), &other->daemon()) << "one rcd per process";
  CB_ASSERT_OK(folder->WriteFileAtomically("before.txt", "before"));
  const pid_t first = folder->daemon().pid();
  const int starts = folder->daemon().starts();
  ASSERT_GT(first, 0);

  ASSERT_EQ(::kill(first, SIGKILL), 0);
  // The watcher reaps it: poll until it is gone (bounded).
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (folder->daemon().pid() == first && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the reaper
  }
  EXPECT_NE(folder->daemon().pid(), first);

  CB_ASSERT_OK(folder->WriteFileAtomically("after.txt", "after"));
  Result<std::string> read = other->ReadFile("before.txt", 100);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "before");
  EXPECT_EQ(ReadFileOrDie(HostFile("after.txt")), "after");
  EXPECT_EQ(folder->daemon().starts(), starts + 1);
  EXPECT_GT(folder->daemon().pid(), 0);
  EXPECT_NE(folder->daemon().pid(), first);
}

// The rcd is a child of this process only while some folder uses it: the last folder gone,
// it is stopped and reaped.
TEST_F(RcloneBackendTest, RcdStopsWithTheLastFolder) {
  pid_t pid = -1;
  {
    std::unique_ptr<RcloneSharedFolder> folder = Open();
    ASSERT_NE(folder, nullptr);
    pid = folder->daemon().pid();
    ASSERT_GT(pid, 0);
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_NE(::kill(pid, 0), 0) << "rcd " << pid << " outlived its last folder";
}

// The remote stops and comes back: a write started while it is down completes once it is
// back, and what was written before is intact.
TEST_F(RcloneBackendTest, WriteStartedWhileTheRemoteIsDownCompletesWhenItIsBack) {
  std::unique_ptr<RcloneSharedFolder> folder = Open(Budget(30000));
  ASSERT_NE(folder, nullptr);
  const std::string before(20000, 'b');
  CB_ASSERT_OK(folder->WriteFileAtomically("before.bin", before));

  server_->Stop();
  std::future<Status> during = std::async(std::launch::async, [&] {
    return folder->WriteFileAtomically("during/restart.txt", "written across a restart");
  });
  // It cannot finish while the remote is down.
  ASSERT_EQ(during.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  ASSERT_EQ(server_->Start(scratch_.Join("webdav-2.log")), "");
  const auto restarted = Clock::now();
  ASSERT_EQ(during.wait_for(std::chrono::seconds(40)), std::future_status::ready);
  const Status status = during.get();
  ASSERT_TRUE(status.ok()) << status.ToString();
  const double seconds = std::chrono::duration<double>(Clock::now() - restarted).count();
  std::printf("rclone: write completed %.2f s after the remote was back\n", seconds);
  EXPECT_LT(seconds, 10.0);

  EXPECT_EQ(ReadFileOrDie(HostFile("during/restart.txt")), "written across a restart");
  std::unique_ptr<RcloneSharedFolder> other = Open();
  ASSERT_NE(other, nullptr);
  Result<std::string> read = other->ReadFile("before.bin", 100000);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, before);
  Result<std::vector<std::string>> names = other->List("during");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"restart.txt"}));
}

// With the remote gone for good, an operation fails with IoError once its budget is spent.
TEST_F(RcloneBackendTest, OperationGivesUpWithinItsBudgetWhenTheRemoteIsGone) {
  std::unique_ptr<RcloneSharedFolder> folder = Open(Budget(1500));
  ASSERT_NE(folder, nullptr);
  CB_ASSERT_OK(folder->WriteFileAtomically("a.txt", "a"));
  server_->Stop();
  const auto start = Clock::now();
  const Result<std::string> read = folder->ReadFile("a.txt", 100);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(read.status().code(), Status::Code::kIoError) << read.status().ToString();
  EXPECT_NE(read.status().message().find("gave up after"), std::string::npos)
      << read.status().message();
  EXPECT_LT(seconds, 6.0);
}

// A named remote that is not in the (empty) rclone config is the user's mistake, said at once.
TEST_F(RcloneBackendTest, UnconfiguredRemoteIsRefusedAtOpen) {
  const auto start = Clock::now();
  const Result<std::unique_ptr<SharedFolder>> folder = OpenSharedFolder("nosuchremote:project");
  EXPECT_EQ(folder.status().code(), Status::Code::kInvalidArgument) << folder.status().ToString();
  EXPECT_NE(folder.status().message().find("rclone config"), std::string::npos)
      << folder.status().message();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 10.0);
}

// Secrets of a connection string stay out of Describe (it goes to logs).
TEST_F(RcloneBackendTest, DescribeHidesConnectionStringSecrets) {
  const std::string location = server_->Remote("project");
  std::unique_ptr<RcloneSharedFolder> folder = Open();
  ASSERT_NE(folder, nullptr);
  EXPECT_EQ(folder->Describe(), location);  // nothing secret in this one
  EXPECT_FALSE(folder->LocalPath("x").has_value());
  EXPECT_FALSE(folder->allows_duplicate_names());
}

// Time of a small write on one client and its read on another, over webdav on loopback
// (printed; the bound only catches a pathological regression; bench/ has the real figures).
TEST_F(RcloneBackendTest, SmallWriteAndReadTimes) {
  std::unique_ptr<RcloneSharedFolder> a = Open();
  std::unique_ptr<RcloneSharedFolder> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kRounds = 30;
  double write_s = 0;
  double read_s = 0;
  for (int i = 0; i < kRounds; ++i) {
    const std::string announcement = "{\"agent\": 1, \"sequence\": " + std::to_string(i) + "}";
    const auto start = Clock::now();
    CB_ASSERT_OK(a->WriteFileAtomically("agents/1.json", announcement));
    const auto written = Clock::now();
    Result<std::string> seen = b->ReadFile("agents/1.json", 1000);
    read_s += std::chrono::duration<double>(Clock::now() - written).count();
    write_s += std::chrono::duration<double>(written - start).count();
    ASSERT_TRUE(seen.ok()) << seen.status().ToString();
    ASSERT_EQ(*seen, announcement);
  }
  const double write_ms = 1000 * write_s / kRounds;
  const double read_ms = 1000 * read_s / kRounds;
  std::printf("rclone webdav (loopback): small write %.1f ms, small read %.1f ms\n", write_ms,
              read_ms);
  RecordProperty("small_write_ms", std::to_string(write_ms));
  RecordProperty("small_read_ms", std::to_string(read_ms));
  EXPECT_LT(write_ms, 2000.0);
  EXPECT_LT(read_ms, 2000.0);
}

}  // namespace
}  // namespace cloudbook::testing
