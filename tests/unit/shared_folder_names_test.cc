// Shared-folder names (validation, hidden temporaries) and nfs:// locations.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fs_adapters/nfs_location.h"
#include "shared/shared_folder_names.h"

namespace cloudbook {
namespace {

TEST(SharedFolderNamesTest, AcceptsRelativePaths) {
  for (const std::string name : {"a", "a/b.json", ".hidden", "x/..y/z", "du_3/state.json"}) {
    EXPECT_TRUE(ValidateSharedName(name).ok()) << name;
  }
  EXPECT_TRUE(ValidateSharedName("", /*allow_root=*/true).ok());
}

TEST(SharedFolderNamesTest, RefusesNamesThatCouldEscape) {
  for (const std::string& name :
       std::vector<std::string>{"", "/abs", "..", "../a", "a/..", "a/../b", ".", "a/./b", "a//b",
                                "a/", "a\\b", std::string(1025, 'a'), std::string(201, 'a')}) {
    const Status status = ValidateSharedName(name);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << name;
  }
  EXPECT_FALSE(ValidateSharedName(std::string("a\0b", 3)).ok());
}

TEST(SharedFolderNamesTest, TemporariesAreHiddenAndBesideTheTarget) {
  const std::string temporary = TemporaryNameFor("du/state.json");
  EXPECT_EQ(temporary.rfind("du/.state.json.tmp-", 0), 0u) << temporary;
  EXPECT_NE(temporary, TemporaryNameFor("du/state.json"));
  EXPECT_TRUE(IsHiddenTemporary(temporary.substr(3)));
  EXPECT_TRUE(IsHiddenTemporary(".x.tmp-1f"));
  EXPECT_FALSE(IsHiddenTemporary("x.tmp-1f"));
  EXPECT_FALSE(IsHiddenTemporary(".hidden"));
  EXPECT_EQ(TemporaryNameFor("top").rfind(".top.tmp-", 0), 0u);
}

TEST(NfsLocationTest, ParsesHostPortAndPath) {
  Result<NfsLocation> location = ParseNfsUrl("nfs://127.0.0.1:12049/export/project/");
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  EXPECT_EQ(location->host, "127.0.0.1");
  EXPECT_EQ(location->port, 12049);
  EXPECT_EQ(location->path, "/export/project");
  EXPECT_EQ(location->ToUrl(), "nfs://127.0.0.1:12049/export/project");

  location = ParseNfsUrl("nfs://files.lab/export");
  ASSERT_TRUE(location.ok());
  EXPECT_EQ(location->port, 2049);
}

TEST(NfsLocationTest, RefusesMalformedUrls) {
  for (const std::string url :
       {"nfs://", "nfs://host", "nfs://host/", "nfs:///export", "nfs://host:0/e", "nfs://host:x/e",
        "nfs://host:70000/e", "nfs://host/export/../etc", "nfs://host/e?version=3",
        "nfs://user@host/e", "http://host/e"}) {
    const Result<NfsLocation> location = ParseNfsUrl(url);
    EXPECT_EQ(location.status().code(), Status::Code::kInvalidArgument) << url;
  }
}

}  // namespace
}  // namespace cloudbook
