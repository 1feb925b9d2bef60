// The SharedFolder conformance suite against the NFS back end, on a real nfs-ganesha server
// (userspace NFSv4, VFS back end; tests/loopback_servers.h) that the test starts on a free
// loopback port, plus what is NFS-only: a server restart in the middle of the work. Skipped,
// with the reason, when ganesha cannot run here (scripts/install-deps.sh installs it).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <boost/filesystem.hpp>
#include <cstdio>
#include <future>
#include <thread>

#include "fs_adapters/nfs_shared_folder.h"
#include "fs_adapters/open_shared_folder.h"
#include "tests/loopback_servers.h"
#include "tests/shared_folder_conformance.h"

namespace cloudbook::testing {
namespace {

namespace fs = boost::filesystem;
using Clock = std::chrono::steady_clock;

// One server for the whole test process, started by the first test that needs it.
struct SharedServer {
  ScratchDir scratch;
  std::unique_ptr<GaneshaServer> server;
  std::string why_unavailable;
  int next_folder = 0;
};

SharedServer* g_shared_server = nullptr;  // created by the first test that needs it

SharedServer& TheSharedServer() {
  if (g_shared_server == nullptr) {
    g_shared_server = new SharedServer;
    SharedServer& shared = *g_shared_server;
    shared.why_unavailable = GaneshaServer::WhyUnavailable();
    if (shared.why_unavailable.empty()) {
      shared.server =
          std::make_unique<GaneshaServer>(shared.scratch.Join("ganesha"), FreeLoopbackPort());
      shared.why_unavailable = shared.server->Start();
      if (!shared.why_unavailable.empty()) shared.server.reset();
    }
  }
  return *g_shared_server;
}

// Stops the shared server (by its PID) and removes its folder after the last test.
class StopSharedServer : public ::testing::Environment {
 public:
  void TearDown() override {
    delete g_shared_server;
    g_shared_server = nullptr;
  }
};
::testing::Environment* const kStopSharedServer =
    ::testing::AddGlobalTestEnvironment(new StopSharedServer);

// A fresh sub-folder of the export per test, reached as nfs://127.0.0.1:<port>/export/tN.
class NfsTarget : public SharedFolderTarget {
 public:
  NfsTarget(const GaneshaServer& server, const std::string& folder)
      : host_path_(server.ExportDir() + "/" + folder),
        url_("nfs://127.0.0.1:" + std::to_string(server.port()) + "/export/" + folder) {
    fs::create_directories(host_path_);
  }
  Result<std::unique_ptr<SharedFolder>> OpenClient() override { return OpenSharedFolder(url_); }
  std::string HostPath() const override { return host_path_; }

 private:
  std::string host_path_;
  std::string url_;
};

std::unique_ptr<SharedFolderTarget> MakeNfsTarget(std::string* skip_reason) {
  SharedServer& shared = TheSharedServer();
  if (shared.server == nullptr) {
    *skip_reason = shared.why_unavailable;
    return nullptr;
  }
  return std::make_unique<NfsTarget>(*shared.server, "t" + std::to_string(shared.next_folder++));
}

INSTANTIATE_TEST_SUITE_P(Nfs, SharedFolderConformance,
                         ::testing::Values(SharedFolderBackend{"Nfs", MakeNfsTarget}),
                         SharedFolderBackendName);

class NfsServerRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = GaneshaServer::WhyUnavailable();
    if (!why.empty()) GTEST_SKIP() << "nfs-ganesha not available: " << why;
    server_ = std::make_unique<GaneshaServer>(scratch_.Join("ganesha"), FreeLoopbackPort());
    const std::string start = server_->Start();
    if (!start.empty()) GTEST_SKIP() << "nfs-ganesha cannot start here: " << start;
    fs::create_directories(server_->ExportDir() + "/project");
    location_.host = "127.0.0.1";
    location_.port = server_->port();
    location_.path = "/export/project";
  }

  static NfsOptions Timeouts(int rpc_ms, int retry_budget_ms) {
    NfsOptions options;
    options.rpc_timeout = std::chrono::milliseconds(rpc_ms);
    options.retry_budget = std::chrono::milliseconds(retry_budget_ms);
    return options;
  }

  std::unique_ptr<NfsSharedFolder> Open(NfsOptions options) {
    Result<std::unique_ptr<NfsSharedFolder>> folder = NfsSharedFolder::Open(location_, options);
    EXPECT_TRUE(folder.ok()) << folder.status().ToString();
    return folder.ok() ? std::move(folder).value() : nullptr;
  }

  ScratchDir scratch_;
  std::unique_ptr<GaneshaServer> server_;
  NfsLocation location_;
};

// The server stops while a client is working and comes back: the client's next operation
// (started while the server was down) succeeds within a bounded time, on a new connection.
TEST_F(NfsServerRestartTest, ClientReconnectsAfterServerRestart) {
  const NfsOptions options = Timeouts(2000, 30000);
  std::unique_ptr<NfsSharedFolder> folder = Open(options);
  ASSERT_NE(folder, nullptr);
  CB_ASSERT_OK(folder->WriteFileAtomically("before.txt", "before"));
  EXPECT_EQ(folder->connections(), 1);

  server_->Stop();
  std::future<Status> during = std::async(std::launch::async, [&] {
    return folder->WriteFileAtomically("during/restart.txt", "written across a restart");
  });
  ASSERT_EQ(server_->Start(), "");
  const auto restarted = Clock::now();
  ASSERT_EQ(during.wait_for(std::chrono::seconds(40)), std::future_status::ready);
  const Status status = during.get();
  ASSERT_TRUE(status.ok()) << status.ToString();
  const double seconds = std::chrono::duration<double>(Clock::now() - restarted).count();
  EXPECT_LT(seconds, 20.0);
  std::printf("write completed %.2f s after the server was back\n", seconds);

  EXPECT_GE(folder->connections(), 2);
  Result<std::string> read = folder->ReadFile("before.txt", 100);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "before");
  std::unique_ptr<NfsSharedFolder> other = Open(options);
  ASSERT_NE(other, nullptr);
  read = other->ReadFile("during/restart.txt", 100);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "written across a restart");
}

// A new project's folder need not exist on the server: opening creates it from the nearest
// existing parent (no mount, so the user cannot simply mkdir it). A wrong export still fails.
TEST_F(NfsServerRestartTest, OpenCreatesAMissingProjectFolder) {
  location_.path = "/export/project/new/deeper";
  std::unique_ptr<NfsSharedFolder> folder = Open(Timeouts(2000, 5000));
  ASSERT_NE(folder, nullptr);
  CB_ASSERT_OK(folder->WriteFileAtomically("a.txt", "a"));
  EXPECT_EQ(ReadFileOrDie(server_->ExportDir() + "/project/new/deeper/a.txt"), "a");

  location_.path = "/not-an-export/x";
  const Result<std::unique_ptr<NfsSharedFolder>> wrong =
      NfsSharedFolder::Open(location_, Timeouts(2000, 5000));
  EXPECT_FALSE(wrong.ok());
}

// With the server gone for good, an operation fails with IoError once its retry budget is
// spent: it does not hang.
TEST_F(NfsServerRestartTest, OperationFailsWithinItsBudgetWhenTheServerIsGone) {
  std::unique_ptr<NfsSharedFolder> folder = Open(Timeouts(500, 1500));
  ASSERT_NE(folder, nullptr);
  CB_ASSERT_OK(folder->WriteFileAtomically("a.txt", "a"));
  server_->Stop();
  const auto start = Clock::now();
  const Result<std::string> read = folder->ReadFile("a.txt", 100);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(read.status().code(), Status::Code::kIoError) << read.status().ToString();
  EXPECT_NE(read.status().message().find("gave up"), std::string::npos) << read.status().message();
  EXPECT_LT(seconds, 6.0);
}

// A signal handled by the process (SIGTERM, SIGHUP: the agents and the deployer install
// handlers) makes a blocked poll() return EINTR, and libnfs's synchronous calls treat that as
// a broken connection: the operation fails and every RPC in flight is errored. The adapter
// keeps signals out of its NFS calls: a storm of them during mixed work costs no operation
// and no reconnection (the crash this guards against was seen as a deployer dying with
// SIGSEGV on SIGTERM under 10% packet loss).
TEST_F(NfsServerRestartTest, HandledSignalsDuringOperationsCostNothing) {
  struct sigaction action {};
  action.sa_handler = [](int) {};
  sigemptyset(&action.sa_mask);
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);
  std::unique_ptr<NfsSharedFolder> folder = Open({});
  ASSERT_NE(folder, nullptr);
  const pthread_t worker = ::pthread_self();
  std::atomic<bool> done{false};
  std::atomic<int> sent{0};
  std::thread storm([&] {
    while (!done) {
      ::pthread_kill(worker, SIGUSR1);
      ++sent;
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  const std::string bulk(NfsSharedFolder::kBulkWriteBytes + 1000, 'b');
  const auto expect_ok = [](const Status& status) {
    EXPECT_TRUE(status.ok()) << status.ToString();
  };
  for (int round = 0; round < 40; ++round) {
    const std::string small = "round " + std::to_string(round);
    expect_ok(folder->WriteFileAtomically("storm/small.txt", small));
    expect_ok(folder->WriteFileAtomically("storm/bulk.bin", bulk));
    Result<std::string> read = folder->ReadFile("storm/small.txt", 1000);
    EXPECT_TRUE(read.ok() && *read == small) << read.status().ToString();
    read = folder->ReadFile("storm/bulk.bin", bulk.size());
    EXPECT_TRUE(read.ok() && *read == bulk) << read.status().ToString();
    Result<std::vector<std::string>> names = folder->List("storm");
    EXPECT_TRUE(names.ok() && names->size() == 2) << names.status().ToString();
    EXPECT_TRUE(folder->Stat("storm/bulk.bin").ok());
    if (HasFailure()) break;  // each failure costs a retry budget: one round shows it
  }
  done = true;
  storm.join();
  ::sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_GT(sent.load(), 100) << "the storm ran";
  EXPECT_EQ(folder->connections(), 1) << "no operation lost its connection to a signal";
}

// Latency from a write on client A to the file being readable on client B, and throughput of
// a 50 MB read (printed; the bound only catches a pathological regression).
TEST_F(NfsServerRestartTest, AnnounceLatencyAndReadThroughput) {
  std::unique_ptr<NfsSharedFolder> a = Open({});
  std::unique_ptr<NfsSharedFolder> b = Open({});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kRounds = 50;
  const auto start = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    const std::string announcement = "{\"agent\": 1, \"sequence\": " + std::to_string(i) + "}";
    CB_ASSERT_OK(a->WriteFileAtomically("agents/1.json", announcement));
    Result<std::string> seen = b->ReadFile("agents/1.json", 1000);
    ASSERT_TRUE(seen.ok()) << seen.status().ToString();
    ASSERT_EQ(*seen, announcement);
  }
  const double round_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - start).count() / kRounds;

  const std::string data(50 << 20, 'd');
  CB_ASSERT_OK(a->WriteFileAtomically("working_dir/data.bin", data));
  const auto read_start = Clock::now();
  Result<std::string> read = b->ReadFile("working_dir/data.bin", 64 << 20);
  const double read_s = std::chrono::duration<double>(Clock::now() - read_start).count();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), data.size());
  std::printf("NFS: write on A -> read on B %.2f ms per round; 50 MB read %.0f MB/s\n", round_ms,
              50 / read_s);
  RecordProperty("announce_round_ms", std::to_string(round_ms));
  RecordProperty("read_mb_per_s", std::to_string(50 / read_s));
  EXPECT_LT(round_ms, 500.0);
}

}  // namespace
}  // namespace cloudbook::testing
