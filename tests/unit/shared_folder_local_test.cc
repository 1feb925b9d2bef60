// The SharedFolder conformance suite against the local back end, plus what is local-only:
// symlinks refused, the local path, and the OpenSharedFolder factory.
#include <unistd.h>

#include <boost/filesystem.hpp>

#include "fs_adapters/local_shared_folder.h"
#include "fs_adapters/open_shared_folder.h"
#include "shared/atomic_file.h"
#include "tests/shared_folder_conformance.h"

namespace cloudbook::testing {
namespace {

class LocalTarget : public SharedFolderTarget {
 public:
  LocalTarget() { boost::filesystem::create_directories(HostPath()); }
  Result<std::unique_ptr<SharedFolder>> OpenClient() override {
    return OpenSharedFolder(scratch_.Join("shared"));
  }
  std::string HostPath() const override { return scratch_.Join("shared"); }

 private:
  ScratchDir scratch_;
};

INSTANTIATE_TEST_SUITE_P(Local, SharedFolderConformance,
                         ::testing::Values(SharedFolderBackend{
                             "Local",
                             [](std::string*) {
                               return std::unique_ptr<SharedFolderTarget>(new LocalTarget);
                             }}),
                         SharedFolderBackendName);

TEST(LocalSharedFolderTest, SymlinksAreRefused) {
  ScratchDir scratch;
  WriteFile(scratch.Join("outside/secret.txt"), "secret");
  LocalSharedFolder folder(scratch.Join("shared"));
  ASSERT_TRUE(folder.MakeFolders("").ok());
  ASSERT_EQ(::symlink(scratch.Join("outside/secret.txt").c_str(),
                      scratch.Join("shared/link.txt").c_str()),
            0);
  ASSERT_EQ(::symlink(scratch.Join("outside").c_str(), scratch.Join("shared/dir").c_str()), 0);

  for (const std::string name : {"link.txt", "dir/secret.txt"}) {
    SCOPED_TRACE(name);
    const Result<std::string> read = folder.ReadFile(name, 100);
    EXPECT_EQ(read.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(read.status().message().find("symlink"), std::string::npos);
  }
  EXPECT_EQ(folder.WriteFileAtomically("dir/planted.txt", "x").code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(folder.List("dir").status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(FileExists(scratch.Join("outside/planted.txt")));
}

TEST(LocalSharedFolderTest, HasALocalPath) {
  ScratchDir scratch;
  LocalSharedFolder folder(scratch.Join("shared") + "/");
  EXPECT_EQ(folder.LocalPath("a/b.txt"), scratch.Join("shared/a/b.txt"));
  EXPECT_EQ(folder.LocalPath(""), scratch.Join("shared"));
  EXPECT_EQ(folder.LocalPath("../x"), std::nullopt);
  EXPECT_EQ(folder.Describe(), scratch.Join("shared"));
}

TEST(OpenSharedFolderTest, PlainPathIsLocal) {
  ScratchDir scratch;
  Result<std::unique_ptr<SharedFolder>> folder = OpenSharedFolder(scratch.Join("d"));
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  EXPECT_EQ((*folder)->LocalPath("x"), scratch.Join("d/x"));
  ASSERT_TRUE((*folder)->WriteFileAtomically("x", "1").ok());
  EXPECT_EQ(ReadFileOrDie(scratch.Join("d/x")), "1");
}

// (gdrive:, onedrive:x are rclone remotes: tests/integration/shared_folder_rclone_test.cc.)
TEST(OpenSharedFolderTest, UnknownSchemesAreClearErrors) {
  for (const std::string location : {"s3://bucket/x", ""}) {
    SCOPED_TRACE(location);
    const Result<std::unique_ptr<SharedFolder>> folder = OpenSharedFolder(location);
    EXPECT_EQ(folder.status().code(), Status::Code::kInvalidArgument);
    if (!location.empty()) {
      EXPECT_NE(folder.status().message().find("rclone"), std::string::npos)
          << folder.status().message();
    }
  }
}

TEST(OpenSharedFolderTest, NfsWithoutAServerIsAnIoError) {
  // A loopback port nobody listens on: the connection is refused at once.
  const Result<std::unique_ptr<SharedFolder>> folder = OpenSharedFolder("nfs://127.0.0.1:1/export");
  EXPECT_EQ(folder.status().code(), Status::Code::kIoError) << folder.status().ToString();
  EXPECT_EQ(OpenSharedFolder("nfs://127.0.0.1/../x").status().code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace cloudbook::testing
