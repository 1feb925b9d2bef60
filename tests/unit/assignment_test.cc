// distributed/assignment.json (shared/formats/assignment.h): written atomically by the deployer,
// read by everyone; a reader refuses (with the file's name and the reason) anything malformed,
// oversized or not a regular file, and never crashes on it.
#include "shared/formats/assignment.h"

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <string>

#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::ScratchDir;

Assignment Example() {
  Assignment assignment;
  assignment.version = 3;
  assignment.generation = "20240501T120000Z-1a2b";
  assignment.time_ms = 1714564800000;
  assignment.agents = {"agent-0", "agent-brisk-otter-3fa2"};
  assignment.dus = {{0, "agent-0", "DU 0 stays with agent 0"},
                    {1, "agent-brisk-otter-3fa2", "balance: expected finish 12.3 s"},
                    {2, "agent-0", "moved from lost agent-y"}};
  return assignment;
}

class AssignmentFile : public ::testing::Test {
 protected:
  // Writes `json` as the assignment file and returns the reader's verdict.
  Status ReadBack(const Json& json) {
    testing::WriteFile(AssignmentPath(folder_.path()), json.dump());
    return ReadAssignment(folder_.path()).status();
  }
  static void ExpectCorruption(const Status& status, const std::string& words) {
    EXPECT_EQ(status.code(), Status::Code::kCorruption) << status.ToString();
    EXPECT_NE(status.message().find(words), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("assignment.json"), std::string::npos) << status.message();
  }

  ScratchDir folder_;
};

TEST_F(AssignmentFile, RoundTrip) {
  ASSERT_TRUE(WriteAssignment(folder_.path(), Example()).ok());
  auto read = ReadAssignment(folder_.path());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(ToJson(*read), ToJson(Example()));
  EXPECT_EQ(read->version, 3);
  EXPECT_EQ(read->Find(1)->agent, "agent-brisk-otter-3fa2");
  EXPECT_EQ(read->Find(2)->reason, "moved from lost agent-y");
  EXPECT_EQ(read->Find(7), nullptr);
  EXPECT_EQ(read->DusOf("agent-0"), (std::vector<int>{0, 2}));
  EXPECT_TRUE(read->DusOf("agent-nobody").empty());
  // No temporary left beside it.
  int files = 0;
  for (boost::filesystem::directory_iterator it(folder_.path()), end; it != end; ++it) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(AssignmentFile, EntriesAreSortedByDuWhateverTheFileOrder) {
  Json json = ToJson(Example());
  std::swap(json["dus"][0], json["dus"][2]);
  ASSERT_TRUE(ReadBack(json).ok());
  const Assignment read = *ReadAssignment(folder_.path());
  EXPECT_EQ(read.dus[0].du, 0);
  EXPECT_EQ(read.dus[2].du, 2);
}

TEST_F(AssignmentFile, MissingIsNotFoundAndSaysWhatToRun) {
  const Status status = ReadAssignment(folder_.path()).status();
  EXPECT_EQ(status.code(), Status::Code::kNotFound);
  EXPECT_NE(status.message().find("cloudbook-deployer"), std::string::npos);
}

TEST_F(AssignmentFile, MalformedFilesAreRefusedWithTheReason) {
  testing::WriteFile(AssignmentPath(folder_.path()), "{\"version\": 3, ");
  EXPECT_EQ(ReadAssignment(folder_.path()).status().code(), Status::Code::kCorruption);
  ExpectCorruption(ReadBack(Json::array()), "not a JSON object");

  Json json = ToJson(Example());
  json.erase("dus");
  ExpectCorruption(ReadBack(json), "'dus' must be a list");
  json = ToJson(Example());
  json["version"] = 0;
  ExpectCorruption(ReadBack(json), "'version' must be an integer >= 1");
  json["version"] = "3";
  ExpectCorruption(ReadBack(json), "'version' must be an integer >= 1");
  json = ToJson(Example());
  json.erase("generation");
  ExpectCorruption(ReadBack(json), "'generation' missing");
  json = ToJson(Example());
  json["dus"][1]["du"] = -1;
  ExpectCorruption(ReadBack(json), "no valid 'du' index");
  json = ToJson(Example());
  json["dus"][1]["agent"] = "";
  ExpectCorruption(ReadBack(json), "has no 'agent'");
  json = ToJson(Example());
  json["agents"] = {"agent-0", 7};
  ExpectCorruption(ReadBack(json), "non-empty ids");
  json = ToJson(Example());
  json["time_ms"] = 1.5;
  ExpectCorruption(ReadBack(json), "'time_ms' must be an integer");
}

TEST_F(AssignmentFile, ADuAssignedTwiceIsRefused) {
  Json json = ToJson(Example());
  json["dus"].push_back({{"du", 1}, {"agent", "agent-0"}, {"reason", ""}});
  ExpectCorruption(ReadBack(json), "DU 1 is assigned twice");
}

TEST_F(AssignmentFile, AnotherFormatVersionIsRefused) {
  Json json = ToJson(Example());
  json["format_version"] = 2;
  ExpectCorruption(ReadBack(json), "format_version 2 is not 1");
  json.erase("format_version");
  ExpectCorruption(ReadBack(json), "no format_version");
}

TEST_F(AssignmentFile, ASymlinkIsNotFollowed) {
  const std::string elsewhere = folder_.Join("elsewhere.json");
  testing::WriteFile(elsewhere, ToJson(Example()).dump());
  boost::filesystem::create_symlink(elsewhere, AssignmentPath(folder_.path()));
  ExpectCorruption(ReadAssignment(folder_.path()).status(), "symlink");
}

TEST_F(AssignmentFile, AnOversizedFileIsRefusedBeforeParsing) {
  testing::WriteFile(AssignmentPath(folder_.path()), std::string(kMaxAssignmentBytes + 1, ' '));
  ExpectCorruption(ReadAssignment(folder_.path()).status(), "over the");
}

}  // namespace
}  // namespace cloudbook
