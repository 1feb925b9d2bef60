// Remote paths route to the back end mounted for their location (shared/shared_folder_mounts.h)
// through the ordinary file functions, and a remote working_dir is cached locally by version.
// The "remote" here is a real LocalSharedFolder behind a made-up scheme, so the routing is
// tested without a server (the NFS, rclone and sync back ends have their own suites).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "fs_adapters/local_shared_folder.h"
#include "shared/atomic_file.h"
#include "shared/data/project_data.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"
#include "shared/shared_folder_mounts.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::ReadFileOrDie;
using testing::ScratchDir;
using testing::WriteFile;

// Opens "mem://<anything>" as the local folder `root` and counts opens and reads.
class CountingFolder : public LocalSharedFolder {
 public:
  CountingFolder(std::string root, std::atomic<int>* reads)
      : LocalSharedFolder(std::move(root)), reads_(reads) {}
  Result<std::string> ReadFile(const std::string& name, size_t max_bytes) override {
    ++*reads_;
    return LocalSharedFolder::ReadFile(name, max_bytes);
  }

 private:
  std::atomic<int>* reads_;
};

class SharedFolderMountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Each test mounts its own location: the mount table lives as long as the process.
    location_ =
        std::string("mem://") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    SetSharedFolderOpener(
        [this](const std::string& location) -> Result<std::unique_ptr<SharedFolder>> {
          ++opens_;
          if (fail_opens_) return Status::IoError("server down");
          EXPECT_EQ(location, location_);
          return std::unique_ptr<SharedFolder>(
              new CountingFolder(scratch_.Join("server"), &reads_));
        });
  }

  ScratchDir scratch_;
  std::string location_;
  std::atomic<int> opens_{0};
  std::atomic<int> reads_{0};
  bool fail_opens_ = false;
};

TEST(RemoteLocationTest, TellsRemotesFromPaths) {
  for (const char* remote : {"nfs://h/export", "sync:///home/u/Drive/p", "gdrive:", "onedrive:a/b",
                             ":webdav,url=\"http://127.0.0.1:1\":p", "file:///x"}) {
    EXPECT_TRUE(IsRemoteLocation(remote)) << remote;
  }
  for (const char* local : {"/srv/p/distributed", "relative/dir", "./gdrive:", "/a/b:c", "x"}) {
    EXPECT_FALSE(IsRemoteLocation(local)) << local;
  }
}

TEST_F(SharedFolderMountsTest, FileFunctionsRouteRemotePathsToTheMountedBackEnd) {
  DeclareSharedFolder(location_);
  EXPECT_EQ(opens_, 0) << "declaring must not connect";
  const std::string file = location_ + "/agents/a.json";
  ASSERT_TRUE(WriteFileAtomically(file, "{\"x\":1}").ok());
  EXPECT_EQ(opens_, 1);
  EXPECT_EQ(ReadFileOrDie(scratch_.Join("server/agents/a.json")), "{\"x\":1}");
  EXPECT_TRUE(FileExists(file));
  EXPECT_TRUE(PathExists(location_ + "/agents"));
  EXPECT_FALSE(FileExists(location_ + "/agents/b.json"));

  Result<std::string> text = ReadRegularFileBounded(file, 100);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "{\"x\":1}");
  EXPECT_EQ(ReadRegularFileBounded(file, 3).status().code(), Status::Code::kInvalidArgument);

  const Result<std::vector<std::string>> names = ListFolder(location_ + "/agents");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"a.json"});
  const Result<SharedFileInfo> info = StatPath(file);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->exists);
  EXPECT_EQ(info->size, 7u);

  ASSERT_TRUE(MakeFolders(location_ + "/stats/x").ok());
  EXPECT_TRUE(PathExists(scratch_.Join("server/stats/x")));
  ASSERT_TRUE(RemovePath(file).ok());
  EXPECT_EQ(RemovePath(file).code(), Status::Code::kNotFound);
  EXPECT_EQ(opens_, 1) << "one back end per location, opened once";
}

TEST_F(SharedFolderMountsTest, PathsOutsideEveryMountAreRefused) {
  const Status status = WriteFileAtomically("mem://never-declared/a.json", "x");
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find("not inside an open shared folder"), std::string::npos);
  EXPECT_EQ(opens_, 0);
  // A longer location is not a prefix match at a '/' boundary.
  DeclareSharedFolder(location_);
  EXPECT_FALSE(ListFolder(location_ + "-other/x").ok());
}

TEST_F(SharedFolderMountsTest, AFailedOpenIsReportedAndRetriedAtTheNextUse) {
  fail_opens_ = true;
  EXPECT_EQ(MountSharedFolder(location_).code(), Status::Code::kIoError);
  EXPECT_EQ(WriteFileAtomically(location_ + "/a", "1").code(), Status::Code::kIoError);
  fail_opens_ = false;
  EXPECT_TRUE(WriteFileAtomically(location_ + "/a", "1").ok());
  EXPECT_EQ(opens_, 3);
}

TEST_F(SharedFolderMountsTest, LocalPathsNeedNoMount) {
  EXPECT_TRUE(MountSharedFolder(scratch_.Join("plain")).ok());
  ASSERT_TRUE(WriteFileAtomically(scratch_.Join("plain/a.txt"), "x").ok());
  EXPECT_EQ(*ListFolder(scratch_.Join("plain")), std::vector<std::string>{"a.txt"});
  EXPECT_EQ(opens_, 0);
}

TEST_F(SharedFolderMountsTest, ProjectSettingsPutTheSharedFolderElsewhere) {
  const std::string project = scratch_.Join("project");
  ASSERT_TRUE(MakeFolders(project).ok());
  Result<ProjectLayout> plain = OpenProjectLayout(project);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->shared_folder(), project + "/distributed");

  ASSERT_TRUE(WriteProjectSettings(ProjectLayout(project, location_)).ok());
  Result<ProjectLayout> remote = OpenProjectLayout(project);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_EQ(remote->shared_folder(), location_);
  EXPECT_EQ(remote->assignment_file(), location_ + "/assignment.json");
  EXPECT_EQ(opens_, 1) << "opening the layout mounts the shared folder";

  Result<ProjectLayout> overridden = OpenProjectLayout(project, scratch_.Join("elsewhere"));
  ASSERT_TRUE(overridden.ok());
  EXPECT_EQ(overridden->shared_folder(), scratch_.Join("elsewhere"));

  WriteFile(project + "/project.json", "{\"distributed_folder\": \"../shared-here\"}");
  Result<ProjectLayout> relative = OpenProjectLayout(project);
  ASSERT_TRUE(relative.ok()) << relative.status().ToString();
  EXPECT_EQ(relative->shared_folder(), project + "/../shared-here") << "relative to the project";

  WriteFile(project + "/project.json", "{\"distributed_folder\": 3}");
  EXPECT_EQ(OpenProjectLayout(project).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(SharedFolderMountsTest, ARemoteWorkingDirIsCachedByVersion) {
  const ProjectLayout layout(scratch_.Join("project"), location_);
  ASSERT_TRUE(MountSharedFolder(location_).ok());
  ASSERT_TRUE(WriteFileAtomically(layout.working_dir() + "/train.csv", "1,2\n").ok());
  ASSERT_TRUE(WriteFileAtomically(layout.working_dir() + "/sub/test.csv", "3,4\n").ok());

  reads_ = 0;
  Result<std::string> local = LocalWorkingDir(layout);
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(local->rfind(layout.local_cache(), 0), 0u) << *local;
  EXPECT_EQ(ReadFileOrDie(*local + "/train.csv"), "1,2\n");
  EXPECT_EQ(ReadFileOrDie(*local + "/sub/test.csv"), "3,4\n");
  EXPECT_EQ(reads_, 2);

  // Unchanged: nothing is read again.
  ASSERT_TRUE(LocalWorkingDir(layout).ok());
  EXPECT_EQ(reads_, 2);

  // Replaced with another size: fetched again, the other file not.
  ASSERT_TRUE(WriteFileAtomically(layout.working_dir() + "/train.csv", "1,2\n5,6\n").ok());
  ASSERT_TRUE(LocalWorkingDir(layout).ok());
  EXPECT_EQ(reads_, 3);
  EXPECT_EQ(ReadFileOrDie(*local + "/train.csv"), "1,2\n5,6\n");
}

TEST_F(SharedFolderMountsTest, ALocalWorkingDirIsUsedInPlace) {
  const ProjectLayout layout(scratch_.Join("project"));
  const Result<std::string> local = LocalWorkingDir(layout);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(*local, layout.working_dir());
}

}  // namespace
}  // namespace cloudbook
