// The torch-free face of the checkpoint format (shared/formats/checkpoint_header.h): the deployer
// reads owner versions from checkpoint headers to number its assignments above them.
#include "shared/formats/checkpoint_header.h"

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <string>

#include "tests/checkpoint_test_files.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::CheckpointBytes;

TEST(CheckpointHeader, ReadsTheMetadataWithoutTheTensors) {
  testing::ScratchDir folder;
  const std::string path = folder.Join("subnet_1.pt");
  testing::WriteFile(path, CheckpointBytes({{"owner_version", 3}, {"epoch", 2}}));
  const auto metadata = ReadCheckpointMetadata(path);
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  EXPECT_EQ(metadata->at("owner_version"), 3);

  testing::WriteFile(path, "not a checkpoint at all, but longer than forty bytes of header");
  EXPECT_EQ(ReadCheckpointMetadata(path).status().code(), Status::Code::kCorruption);
  testing::WriteFile(path, CheckpointBytes({{"owner_version", 3}}).substr(0, 45));
  const auto torn = ReadCheckpointMetadata(path);
  EXPECT_EQ(torn.status().code(), Status::Code::kCorruption);
  EXPECT_NE(torn.status().message().find("torn"), std::string::npos);
  EXPECT_EQ(ReadCheckpointMetadata(folder.Join("none.pt")).status().code(),
            Status::Code::kNotFound);
}

TEST(CheckpointHeader, HighestOwnerVersionAcrossEveryDuSkippingUnreadableFiles) {
  testing::ScratchDir folder;
  const std::string checkpoints = folder.Join("checkpoints");
  EXPECT_EQ(HighestCheckpointOwnerVersion(checkpoints), 0);  // no folder yet
  boost::filesystem::create_directories(checkpoints + "/du_1");
  boost::filesystem::create_directories(checkpoints + "/du_2");
  testing::WriteFile(checkpoints + "/du_1/subnet_1.pt", CheckpointBytes({{"owner_version", 2}}));
  testing::WriteFile(checkpoints + "/du_2/subnet_2.pt", CheckpointBytes({{"owner_version", 3}}));
  testing::WriteFile(checkpoints + "/du_2/subnet_9.pt", "garbage");
  testing::WriteFile(checkpoints + "/du_2/notes.txt", CheckpointBytes({{"owner_version", 99}}));
  EXPECT_EQ(HighestCheckpointOwnerVersion(checkpoints), 3);
}

}  // namespace
}  // namespace cloudbook
