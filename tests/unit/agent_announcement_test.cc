// Announcements in the shared folder: signed by their agent, checked by every reader. Each
// file a reader must not trust is ignored with a reason (and a log line), never followed,
// never allowed to crash the reader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/filesystem.hpp>

#include "shared/formats/agent_keys.h"
#include "shared/formats/announcement.h"
#include "shared/printable.h"
#include "shared/project_layout.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::ScratchDir;

class Announcements : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = *GenerateSigningKeyPair();
    announcement_.id = "agent-brisk-otter-3fa2";
    announcement_.grant = Grant::kMedium;
    announcement_.host = "laptop";
    announcement_.endpoint = "tcp://192.168.1.20:5551";
    announcement_.curve_public_key = GenerateCurveKeyPair()->public_key;
    announcement_.signing_public_key = keys_.public_key;
    announcement_.capacity = {4, 37.25, "", 0};
    announcement_.sequence = 12;
    announcement_.time_ms = UnixTimeMs();
    announcement_.announce_interval_s = 5;
    announcement_.pid = 4242;
    announcement_.status = AgentRunState::kRunning;
    announcement_.dus = {1, 3};
  }

  std::string Path(const std::string& id) const {
    return SharedFolderLayout(folder_.path()).announcement_file(id);
  }

  void Write() {
    ASSERT_TRUE(WriteAnnouncement(folder_.path(), announcement_, keys_.secret_key).ok());
  }

  // The reason the only file in the folder was ignored ("" when it was accepted).
  std::string IgnoredReason() {
    const AnnouncementScan scan = ReadAnnouncements(folder_.path());
    EXPECT_TRUE(scan.valid.empty());
    if (scan.ignored.size() != 1) {
      ADD_FAILURE() << "expected one ignored file, got " << scan.ignored.size();
      return "";
    }
    return scan.ignored[0].reason;
  }

  // Rewrites one field of the written file without re-signing it.
  void Tamper(const std::function<void(Json&)>& change) {
    Json json = Json::parse(testing::ReadFileOrDie(Path(announcement_.id)));
    change(json);
    testing::WriteFile(Path(announcement_.id), json.dump(2));
  }

  ScratchDir folder_;
  SigningKeyPair keys_;
  Announcement announcement_;
};

TEST_F(Announcements, RoundTripWithAValidSignature) {
  Write();
  const AnnouncementScan scan = ReadAnnouncements(folder_.path());
  ASSERT_EQ(scan.valid.size(), 1u);
  EXPECT_TRUE(scan.ignored.empty());
  const Announcement& read = scan.valid[0];
  EXPECT_EQ(read.id, announcement_.id);
  EXPECT_EQ(read.grant, Grant::kMedium);
  EXPECT_EQ(read.host, "laptop");
  EXPECT_EQ(read.endpoint, announcement_.endpoint);
  EXPECT_EQ(read.curve_public_key, announcement_.curve_public_key);
  EXPECT_EQ(read.capacity.cores, 4);
  EXPECT_DOUBLE_EQ(read.capacity.gflops, 37.25);
  EXPECT_EQ(read.sequence, 12u);
  EXPECT_EQ(read.time_ms, announcement_.time_ms);
  EXPECT_EQ(read.pid, 4242);
  EXPECT_EQ(read.status, AgentRunState::kRunning);
  EXPECT_EQ(read.dus, std::vector<int>({1, 3}));
  EXPECT_EQ(read.signature.size(), 128u);
  // The signature covers the canonical JSON (sorted keys) of everything but itself.
  Json file = Json::parse(testing::ReadFileOrDie(Path(announcement_.id)));
  const std::string signature = file["signature"];
  file.erase("signature");
  EXPECT_TRUE(VerifyDetached(file.dump(), signature, keys_.public_key));
  EXPECT_EQ(file, UnsignedAnnouncementJson(announcement_));
}

TEST_F(Announcements, RewritingReplacesTheFileAtomically) {
  Write();
  announcement_.sequence = 13;
  announcement_.status = AgentRunState::kStopping;
  Write();
  const AnnouncementScan scan = ReadAnnouncements(folder_.path());
  ASSERT_EQ(scan.valid.size(), 1u);
  EXPECT_EQ(scan.valid[0].sequence, 13u);
  EXPECT_EQ(scan.valid[0].status, AgentRunState::kStopping);
  int files = 0;
  for (fs::directory_iterator it(SharedFolderLayout(folder_.path()).announcements()), end;
       it != end; ++it) {
    ++files;
  }
  EXPECT_EQ(files, 1);  // no temporaries left
}

TEST_F(Announcements, ATamperedFieldIsIgnoredAsABadSignature) {
  Write();
  Tamper([](Json& json) { json["grant"] = "HIGH"; });
  EXPECT_NE(IgnoredReason().find("bad signature"), std::string::npos);
  Write();
  Tamper([](Json& json) { json["endpoint"] = "tcp://6.6.6.6:5550"; });
  EXPECT_NE(IgnoredReason().find("tampered"), std::string::npos);
  Write();
  Tamper([](Json& json) { json["capacity"]["cores"] = 64; });
  EXPECT_NE(IgnoredReason().find("bad signature"), std::string::npos);
  Write();
  Tamper([](Json& json) { json["extra"] = 1; });  // an added field is a change too
  EXPECT_NE(IgnoredReason().find("bad signature"), std::string::npos);
  Write();
  Tamper([](Json& json) { json["signature"] = std::string(128, '0'); });
  EXPECT_NE(IgnoredReason().find("bad signature"), std::string::npos);
}

TEST_F(Announcements, AFileUnderAnotherAgentsNameIsIgnored) {
  Write();
  fs::rename(Path(announcement_.id), Path("agent-someone-else-0000"));
  EXPECT_NE(IgnoredReason().find("not the file's name"), std::string::npos);
}

TEST_F(Announcements, SymlinksAreNeverFollowed) {
  Write();
  const std::string elsewhere = folder_.Join("elsewhere.json");
  fs::rename(Path(announcement_.id), elsewhere);
  fs::create_symlink(elsewhere, Path(announcement_.id));
  EXPECT_NE(IgnoredReason().find("symlink"), std::string::npos);
}

TEST_F(Announcements, OversizedFilesAreNotRead) {
  Write();
  std::string text = testing::ReadFileOrDie(Path(announcement_.id));
  text += std::string(kMaxAnnouncementBytes, ' ');  // still valid JSON, too large
  testing::WriteFile(Path(announcement_.id), text);
  EXPECT_NE(IgnoredReason().find("limit"), std::string::npos);
}

TEST_F(Announcements, GarbageWrongTypesAndVersionsAreIgnoredWithTheReason) {
  fs::create_directories(SharedFolderLayout(folder_.path()).announcements());
  testing::WriteFile(Path(announcement_.id), "{\"id\": \"agent-");
  EXPECT_NE(IgnoredReason().find("bad JSON"), std::string::npos);
  testing::WriteFile(Path(announcement_.id), std::string("\x00\xff\xfe garbage", 12));
  EXPECT_NE(IgnoredReason().find("bad JSON"), std::string::npos);
  testing::WriteFile(Path(announcement_.id), "[1, 2, 3]");
  EXPECT_NE(IgnoredReason().find("JSON object"), std::string::npos);
  testing::WriteFile(Path(announcement_.id), "");
  EXPECT_NE(IgnoredReason().find("bad JSON"), std::string::npos);

  const auto expect_reason = [&](const std::function<void(Json&)>& change,
                                 const std::string& expected) {
    // Re-signed after the change: only the field checks can catch it.
    Json json = UnsignedAnnouncementJson(announcement_);
    change(json);
    json["signature"] = *SignDetached(json.dump(), keys_.secret_key);
    testing::WriteFile(Path(announcement_.id), json.dump());
    EXPECT_NE(IgnoredReason().find(expected), std::string::npos) << expected;
  };
  expect_reason([](Json& json) { json["format_version"] = 2; }, "format_version 2");
  expect_reason([](Json& json) { json["sequence"] = "12"; }, "sequence must be");
  expect_reason([](Json& json) { json["sequence"] = 0; }, "sequence must be");
  expect_reason([](Json& json) { json["grant"] = "high"; }, "grant must be");
  expect_reason([](Json& json) { json["endpoint"] = "http://x:1"; }, "endpoint must be");
  expect_reason([](Json& json) { json["endpoint"] = "tcp://x:99999"; }, "endpoint must be");
  expect_reason([](Json& json) { json["capacity"] = 3; }, "capacity must be");
  expect_reason([](Json& json) { json["capacity"]["gflops"] = -1; }, "capacity.gflops");
  expect_reason([](Json& json) { json["dus"] = {1, -2}; }, "dus must be");
  expect_reason([](Json& json) { json["status"] = "dancing"; }, "status must be");
  expect_reason([](Json& json) { json["curve_public_key"] = "short"; }, "curve_public_key");
  expect_reason([](Json& json) { json.erase("pid"); }, "pid must be");
  expect_reason([](Json& json) { json["pid"] = 18446744073709551615ull; }, "pid must be");
  expect_reason([](Json& json) { json["host"] = std::string(300, 'h'); }, "host must be");
}

TEST_F(Announcements, AKeyOtherThanTheLocalConfigsIsIgnored) {
  Write();
  const std::map<std::string, std::string> pinned = {
      {announcement_.id, GenerateSigningKeyPair()->public_key}};
  const AnnouncementScan scan = ReadAnnouncements(folder_.path(), pinned);
  EXPECT_TRUE(scan.valid.empty());
  ASSERT_EQ(scan.ignored.size(), 1u);
  EXPECT_NE(scan.ignored[0].reason.find("not the one in this machine's config"), std::string::npos);
  EXPECT_EQ(ReadAnnouncements(folder_.path(), {{announcement_.id, keys_.public_key}}).valid.size(),
            1u);
}

TEST_F(Announcements, OtherFilesAreSortedOutAndGoodOnesStillRead) {
  Write();
  testing::WriteFile(SharedFolderLayout(folder_.path()).announcements() + "/.agent-x.json.tmp-12ab",
                     "{");
  testing::WriteFile(SharedFolderLayout(folder_.path()).announcements() + "/notes.txt", "hello");
  testing::WriteFile(SharedFolderLayout(folder_.path()).announcements() + "/bad name!.json", "{}");
  fs::create_directories(SharedFolderLayout(folder_.path()).announcements() + "/folder.json");
  const AnnouncementScan scan = ReadAnnouncements(folder_.path());
  ASSERT_EQ(scan.valid.size(), 1u);
  EXPECT_EQ(scan.ignored.size(), 3u);  // the hidden temporary is skipped silently
  for (const auto& ignored : scan.ignored) {
    EXPECT_FALSE(ignored.reason.empty()) << ignored.path;
    EXPECT_EQ(ignored.path.find(".tmp-"), std::string::npos);
  }
}

TEST_F(Announcements, MissingFolderMeansNoAgents) {
  const AnnouncementScan scan = ReadAnnouncements(folder_.Join("nowhere"));
  EXPECT_TRUE(scan.valid.empty());
  EXPECT_TRUE(scan.ignored.empty());
}

// Issue 15, item 8: a host or endpoint carrying terminal escapes is refused when read, even
// correctly signed by its writer; what the reason quotes is printable.
TEST_F(Announcements, ControlCharactersInNamesAreRefusedWhenRead) {
  announcement_.host = "laptop\x1b]0;owned\x07\x1b[2J";
  Write();
  std::string reason = IgnoredReason();
  EXPECT_NE(reason.find("host must be a host name or address"), std::string::npos) << reason;
  EXPECT_EQ(reason.find('\x1b'), std::string::npos) << reason;
  EXPECT_NE(reason.find("\\x1b"), std::string::npos) << reason;
  announcement_.host = "laptop";
  announcement_.endpoint = "tcp://10.0.0.2\x1b[31m:5550";
  Write();
  EXPECT_NE(IgnoredReason().find("endpoint must be"), std::string::npos);
  announcement_.endpoint = "tcp://[fe80::1]:5550";  // IPv6 in brackets stays valid
  announcement_.capacity.gpu = "GPU\r\nfake log line";
  Write();
  EXPECT_NE(IgnoredReason().find("capacity.gpu must be printable"), std::string::npos);
  announcement_.capacity.gpu = "NVIDIA GeForce RTX 3080 \xc3\xa9";  // UTF-8 is fine
  Write();
  EXPECT_EQ(ReadAnnouncements(folder_.path()).valid.size(), 1u);
}

TEST(PrintableText, EscapesControlCharactersAndInvalidUtf8Only) {
  EXPECT_EQ(Printable("agent-0 caf\xc3\xa9 \xe2\x9c\x93"), "agent-0 caf\xc3\xa9 \xe2\x9c\x93");
  EXPECT_EQ(Printable("a\x1b[31mb\x07\n\x7f"), "a\\x1b[31mb\\x07\\x0a\\x7f");
  EXPECT_EQ(Printable("\xc2\x9b"), "\\xc2\\x9b");  // C1 CSI: a terminal obeys it
  EXPECT_EQ(Printable("\xff\xc3"), "\\xff\\xc3");  // invalid and truncated
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf");  // overlong '/'
  EXPECT_EQ(Printable(Printable("a\x1b\xff")), Printable("a\x1b\xff"));  // idempotent
  EXPECT_TRUE(IsPrintable("machine-b"));
  EXPECT_FALSE(IsPrintable("machine\tb"));
  EXPECT_TRUE(IsHostNameOrAddress("10.0.0.2"));
  EXPECT_TRUE(IsHostNameOrAddress("fe80::1"));
  EXPECT_FALSE(IsHostNameOrAddress("-rf"));
  EXPECT_FALSE(IsHostNameOrAddress("a b"));
  EXPECT_FALSE(IsHostNameOrAddress(""));
}

TEST(AnnouncementStaleness, StaleAfterThreeIntervalsWithoutANewSequence) {
  Announcement announcement;
  announcement.time_ms = 1'000'000;
  EXPECT_FALSE(IsStale(announcement, 1'000'000, 5));
  EXPECT_FALSE(IsStale(announcement, 1'015'000, 5));
  EXPECT_TRUE(IsStale(announcement, 1'015'001, 5));
  EXPECT_FALSE(IsStale(announcement, 999'000, 5));  // a writer's clock slightly ahead
  EXPECT_TRUE(IsStale(announcement, 1'001'000, 0.3));
}

}  // namespace
}  // namespace cloudbook
