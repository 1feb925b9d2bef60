// The main job with the shared folder on each remote back end, on real servers started here:
// an NFS server (nfs-ganesha on loopback, reached by the native client), an rclone remote
// (`rclone serve webdav` on loopback standing in for Google Drive / OneDrive) and a folder in
// sync-client mode (sync://). The project folder holds only original/ and the agents' local
// configs: the maker, two agents, the deployer and cloudbook-run find the shared folder
// through P/project.json, and the run completes with its results in the shared folder.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <sstream>

#include "fs_adapters/open_shared_folder.h"
#include "shared/atomic_file.h"
#include "shared/formats/announcement.h"
#include "shared/formats/assignment.h"
#include "shared/json_io.h"
#include "shared/shared_files.h"
#include "shared/shared_folder_mounts.h"
#include "tests/integration/agent_process.h"
#include "tests/loopback_servers.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::CommandResult;

std::string Bin(const std::string& name) { return std::string(CLOUDBOOK_BIN_DIR) + "/" + name; }

enum class Backend { kNfs, kRcloneWebdav, kSynced };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  switch (info.param) {
    case Backend::kNfs:
      return "Nfs";
    case Backend::kRcloneWebdav:
      return "RcloneWebdav";
    case Backend::kSynced:
      return "Synced";
  }
  return "Unknown";
}

class RemoteFolderRun : public testing::AgentProcessTest,
                        public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override {
    InstallSharedFolderBackends();  // the test reads the shared folder like the components
    if (!testing::SetUpFashionMlpProject(project_.path())) {
      GTEST_SKIP() << "Fashion-MNIST is not installed";
    }
    // The shared folder moves to the server side; P/distributed must not come back.
    ASSERT_TRUE(StartServer());
    const std::string shared = host_root_ + "/proj";
    fs::create_directories(shared + "/working_dir/fashion-mnist");
    // Real files, not the fixture's symlink: shared folders refuse links.
    for (const fs::directory_entry& entry : fs::directory_iterator(testing::FashionMnistDir())) {
      fs::copy_file(entry.path(),
                    shared + "/working_dir/fashion-mnist/" + entry.path().filename().string());
    }
    testing::WriteFile(shared + "/config.json",
                       R"({"announce_interval_s": 0.5, "stats_interval_s": 0.5,
                           "heartbeat_interval_s": 0.5, "liveness_timeout_s": 5})");
    fs::remove_all(project_.Join("distributed"));
  }

  // Starts the server for this back end; sets host_root_ (the served folder on disk) and
  // location_root_ (how clients name it).
  bool StartServer() {
    switch (GetParam()) {
      case Backend::kNfs: {
        const std::string why = testing::GaneshaServer::WhyUnavailable();
        if (!why.empty()) {
          skip_ = why;
          return true;
        }
        ganesha_ = std::make_unique<testing::GaneshaServer>(scratch_.Join("nfs"),
                                                            testing::FreeLoopbackPort());
        const std::string error = ganesha_->Start();
        EXPECT_EQ(error, "");
        host_root_ = ganesha_->ExportDir();
        location_root_ = "nfs://127.0.0.1:" + std::to_string(ganesha_->port()) + "/export";
        return error.empty();
      }
      case Backend::kRcloneWebdav: {
        const std::string why = testing::RcloneWebdavServer::WhyUnavailable();
        if (!why.empty()) {
          skip_ = why;
          return true;
        }
        fs::create_directories(scratch_.Join("webdav"));
        webdav_ = std::make_unique<testing::RcloneWebdavServer>(scratch_.Join("webdav"),
                                                                testing::FreeLoopbackPort());
        const std::string error = webdav_->Start(scratch_.Join("webdav.log"));
        EXPECT_EQ(error, "");
        host_root_ = scratch_.Join("webdav");
        location_root_ = webdav_->Remote("");
        return error.empty();
      }
      case Backend::kSynced:
        host_root_ = scratch_.Join("synced");
        location_root_ = "sync://" + host_root_;
        return true;
    }
    return false;
  }

  // "<root>/proj" for a path-like root, "<remote:>proj" for an rclone remote's root.
  std::string Location() const {
    const char last = location_root_.back();
    return location_root_ + (last == ':' || last == '/' ? "" : "/") + "proj";
  }

  CommandResult Shell(const std::string& command) {
    return testing::RunShell(command, scratch_.Join("shell-stderr.txt"));
  }

  // Through the back end, as an agent reads it (sync:// files carry an envelope on disk).
  bool Running(const std::string& id) {
    auto text =
        ReadRegularFileBounded(Location() + "/agents/" + id + ".json", kMaxAnnouncementBytes);
    if (!text.ok()) return false;
    auto announcement = ParseAnnouncement(*text, id);
    return announcement.ok() && announcement->status == AgentRunState::kRunning;
  }

  std::string skip_;
  std::string host_root_;
  std::string location_root_;
  std::unique_ptr<testing::GaneshaServer> ganesha_;
  std::unique_ptr<testing::RcloneWebdavServer> webdav_;
};

TEST_P(RemoteFolderRun, TwoAgentsTrainAndComposeThroughTheRemoteFolder) {
  if (!skip_.empty()) GTEST_SKIP() << skip_;
  const CommandResult made =
      Shell(Bin("cloudbook-maker") + " " + P() + " --distributed-folder '" + Location() +
            "' --subnets 3 --train-limit 2000 --test-limit 500");
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  ASSERT_TRUE(fs::exists(project_.Join("project.json")));
  // The maker checks the data: it fetches it into this machine's cache, once.
  EXPECT_NE((made.out + made.err).find("fetched 4 data file(s)"), std::string::npos)
      << made.out << made.err;
  const Status mounted = MountSharedFolder(Location());  // this process reads it too
  ASSERT_TRUE(mounted.ok()) << mounted.ToString();
  EXPECT_TRUE(PathExists(Location() + "/du_list.json"));

  // The agents and the deployer take the location from P/project.json.
  const std::string agent0 = Create("--grant LOW --agent-0");
  const std::string agent1 = Create("--grant LOW");
  Launch(agent0);
  const std::string log0 = log_path_;
  Launch(agent1);
  ASSERT_TRUE(WaitFor([&] { return Running(agent0) && Running(agent1); }, 120))
      << testing::ReadFileOrDie(log0) << LaunchLog();
  Spawn({Bin("cloudbook-deployer"), "--project-folder", project_.path(), "--wait", "20",
         "--fast-start"},
        "deployer.log");
  ASSERT_TRUE(WaitFor([&] { return ReadAssignment(Location()).ok(); }, 60)) << Log("deployer.log");

  const CommandResult run = Shell(Bin("cloudbook-run") + " " + P() +
                                  " --run-name remote --progress plain --timeout 400 "
                                  "--assignment-wait 30");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << Log("deployer.log")
                              << testing::ReadFileOrDie(log0);
  EXPECT_NE(run.out.find("composed: accuracy"), std::string::npos) << run.out;

  auto results = ReadJsonFile(Location() + "/results/remote.json");
  ASSERT_TRUE(results.ok()) << results.status().message();
  EXPECT_EQ((*results)["dus"].size(), 3u);
  EXPECT_GT((*results)["composed"]["metrics"]["accuracy"].get<double>(), 0.5) << results->dump(2);
  // The files are on the server's disk, nothing went to a local distributed/ folder, and the
  // agents of this machine trained from the copy of the data the maker cached (unchanged
  // files are not fetched again).
  EXPECT_TRUE(fs::exists(host_root_ + "/proj/results/remote.json"));
  EXPECT_TRUE(fs::exists(host_root_ + "/proj/assignment.json"));
  EXPECT_FALSE(fs::exists(project_.Join("distributed")));
  EXPECT_TRUE(fs::exists(project_.Join("cache")));
  EXPECT_EQ(testing::ReadFileOrDie(log0).find("fetched"), std::string::npos)
      << testing::ReadFileOrDie(log0);
}

INSTANTIATE_TEST_SUITE_P(Backends, RemoteFolderRun,
                         ::testing::Values(Backend::kNfs, Backend::kRcloneWebdav, Backend::kSynced),
                         BackendName);

}  // namespace
}  // namespace cloudbook
