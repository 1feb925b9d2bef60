// The SharedFolder conformance suite against the NFS back end, on a real nfs-ganesha server
// (userspace NFSv4, VFS back end) that the test starts on a free loopback port, plus what is
// NFS-only: a server restart in the middle of the work. Skipped, with the reason, when
// ganesha cannot run here (scripts/install-deps.sh installs it).
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cstdio>
#include <future>
#include <thread>

#include "fs_adapters/nfs_shared_folder.h"
#include "tests/shared_folder_conformance.h"

namespace cloudbook::testing {
namespace {

namespace fs = boost::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kGaneshaBinary[] = "/usr/bin/ganesha.nfsd";
constexpr char kGaneshaVfs[] = "/usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so";

// A free TCP port on 127.0.0.1 (bound then released: the server binds it next).
uint16_t FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// nfs-ganesha exporting <base>/export as /export on 127.0.0.1:<port>, NFSv4 only (no
// rpcbind), without a grace period and without attribute caching (see
// ../shared/recipes/nfs_ganesha_v4.sh). Stopped by PID; dies with the test process.
class GaneshaServer {
 public:
  GaneshaServer(std::string base, uint16_t port) : base_(std::move(base)), port_(port) {}
  ~GaneshaServer() { Stop(); }

  static std::string WhyUnavailable() {
    if (::access(kGaneshaBinary, X_OK) != 0) return std::string(kGaneshaBinary) + " missing";
    if (::access(kGaneshaVfs, R_OK) != 0) return std::string(kGaneshaVfs) + " missing";
    return "";
  }

  uint16_t port() const { return port_; }
  std::string ExportDir() const { return base_ + "/export"; }

  // Empty on success, else why the server did not start.
  std::string Start() {
    fs::create_directories(ExportDir());
    fs::create_directories(base_ + "/recov");
    const std::string config = base_ + "/ganesha.conf";
    WriteFile(config, Config());
    log_ = base_ + "/ganesha-" + std::to_string(++starts_) + ".log";
    const pid_t pid = ::fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the test
      std::freopen("/dev/null", "w", stdout);
      std::freopen("/dev/null", "w", stderr);
      ::execl(kGaneshaBinary, kGaneshaBinary, "-F", "-f", config.c_str(), "-L", log_.c_str(), "-p",
              (base_ + "/ganesha.pid").c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pid_ = pid;
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      if (ReadLog().find("NFS SERVER INITIALIZED") != std::string::npos) return "";
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return "ganesha.nfsd exited at start; log: " + ReadLog().substr(0, 2000);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the log
    }
    Stop();
    return "ganesha.nfsd did not initialise within 20 s; log: " + ReadLog().substr(0, 2000);
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the exit
    }
    pid_ = -1;
  }

 private:
  std::string Config() const {
    const std::string port = std::to_string(port_);
    return "NFS_CORE_PARAM { Bind_addr = 127.0.0.1; NFS_Port = " + port +
           "; Protocols = 4; Enable_NLM = false; Enable_RQUOTA = false; }\n"
           "NFSV4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = " +
           base_ + "/recov; }\n" +
           "NFS_KRB5 { Active_krb5 = false; }\n"
           "LOG { Default_Log_Level = EVENT; }\n"
           "EXPORT { Export_Id = 1; Path = " +
           ExportDir() +
           "; Pseudo = /export; Access_Type = RW; Squash = No_Root_Squash; SecType = sys;"
           " Protocols = 4; Transports = TCP; Attr_Expiration_Time = 0;"
           " FSAL { Name = VFS; } }\n";
  }

  std::string ReadLog() const {
    std::FILE* file = std::fopen(log_.c_str(), "r");
    if (file == nullptr) return "";
    std::string text;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
    std::fclose(file);
    return text;
  }

  std::string base_;
  uint16_t port_;
  std::string log_;
  int starts_ = 0;
  pid_t pid_ = -1;
};

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
