// The envelope of the sync-tolerant back end: round trips, half-delivered files, files of
// others, corrupted header fields, version stamps.
#include "fs_adapters/sync_envelope.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace cloudbook {
namespace {

constexpr int64_t kVersion = 1700000000123456789;

SyncFileView Inspect(const std::string& contents) {
  Result<SyncFileView> view = InspectSyncFile(contents);
  EXPECT_TRUE(view.ok()) << view.status().ToString();
  return view.ok() ? *view : SyncFileView{};
}

TEST(SyncEnvelopeTest, RoundTripKeepsPayloadAndHeaderFields) {
  std::string payload(70000, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 13) % 256);
  const std::string name = "agents/odd name=%\n(1).json";
  const std::string wrapped = WrapInSyncEnvelope(payload, kVersion, "host a:42", name);
  EXPECT_EQ(wrapped.rfind("#cloudbook-sync v1 len=70000 crc32=", 0), 0u) << wrapped.substr(0, 80);
  EXPECT_EQ(std::count(wrapped.begin(), wrapped.begin() + wrapped.find('\n') + 1, '\n'), 1);

  const SyncFileView view = Inspect(wrapped);
  EXPECT_EQ(view.state, SyncFileState::kComplete);
  EXPECT_TRUE(view.has_header);
  EXPECT_EQ(view.header.length, payload.size());
  EXPECT_EQ(view.header.version, kVersion);
  EXPECT_EQ(view.header.writer, "host a:42");
  EXPECT_EQ(view.header.name, name);
  EXPECT_EQ(SyncPayload(wrapped, view), payload);
  EXPECT_EQ(view.header_bytes + payload.size(), wrapped.size());
}

TEST(SyncEnvelopeTest, EmptyPayloadIsComplete) {
  const std::string wrapped = WrapInSyncEnvelope("", kVersion, "h:1", "e.txt");
  const SyncFileView view = Inspect(wrapped);
  EXPECT_EQ(view.state, SyncFileState::kComplete);
  EXPECT_EQ(SyncPayload(wrapped, view), "");
}

TEST(SyncEnvelopeTest, FilesWithoutTheEnvelopeArePlain) {
  for (const std::string contents :
       {"a,b\n1,2\n", "{\"x\": 1}", "#cloudbook-syncX v1 len=1\nx", "#cloudbook!", "#note"}) {
    SCOPED_TRACE(contents);
    EXPECT_EQ(Inspect(contents).state, SyncFileState::kPlain);
  }
}

TEST(SyncEnvelopeTest, EveryCutOfAWrappedFileIsIncomplete) {
  const std::string wrapped = WrapInSyncEnvelope(std::string(3000, 'p'), kVersion, "h:1", "f.bin");
  // Every prefix, from empty (a sync client created the file) to one byte short.
  for (size_t size = 0; size < wrapped.size(); size += (size < 200 ? 1 : 97)) {
    SCOPED_TRACE("first " + std::to_string(size) + " bytes");
    const SyncFileView view = Inspect(wrapped.substr(0, size));
    EXPECT_EQ(view.state, SyncFileState::kIncomplete);
    EXPECT_FALSE(view.why_incomplete.empty());
  }
  EXPECT_EQ(Inspect(wrapped.substr(0, wrapped.size() - 1)).state, SyncFileState::kIncomplete);
  EXPECT_EQ(Inspect(wrapped + "x").state, SyncFileState::kIncomplete);  // trailing bytes
}

TEST(SyncEnvelopeTest, RightLengthWrongBytesIsIncomplete) {
  // A client that allocates the file first and fills it afterwards.
  std::string wrapped = WrapInSyncEnvelope("the payload", kVersion, "h:1", "f");
  const size_t header = wrapped.find('\n') + 1;
  std::string zeros = wrapped;
  std::fill(zeros.begin() + header, zeros.end(), '\0');
  SyncFileView view = Inspect(zeros);
  EXPECT_EQ(view.state, SyncFileState::kIncomplete);
  EXPECT_NE(view.why_incomplete.find("CRC"), std::string::npos) << view.why_incomplete;
  wrapped.back() ^= 1;
  EXPECT_EQ(Inspect(wrapped).state, SyncFileState::kIncomplete);
}

TEST(SyncEnvelopeTest, HeaderOnlyInspectionJudgesByLength) {
  const std::string wrapped = WrapInSyncEnvelope(std::string(10000, 'q'), kVersion, "h:1", "f");
  const std::string prefix = wrapped.substr(0, kMaxSyncHeaderBytes);
  Result<SyncFileView> view = InspectSyncHeader(prefix, wrapped.size());
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->state, SyncFileState::kComplete);
  EXPECT_EQ(view->header.length, 10000u);
  view = InspectSyncHeader(prefix, wrapped.size() - 5000);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->state, SyncFileState::kIncomplete);
  EXPECT_TRUE(view->has_header);  // the version is known before the payload arrives
  EXPECT_EQ(view->header.version, kVersion);
}

TEST(SyncEnvelopeTest, CorruptedHeaderFieldsAreCorruption) {
  const std::string good_crc = "crc32=0000abcd";
  const std::vector<std::string> bad_lines = {
      "#cloudbook-sync v2 len=1 crc32=0000abcd version=5 writer=h:1 name=f",  // newer format
      "#cloudbook-sync  len=1 crc32=0000abcd version=5 writer=h:1 name=f",    // no format
      "#cloudbook-sync v1 len=x crc32=0000abcd version=5 writer=h:1 name=f",
      "#cloudbook-sync v1 len=-1 crc32=0000abcd version=5 writer=h:1 name=f",
      "#cloudbook-sync v1 len=99999999999999999999 crc32=0000abcd version=5 writer=h:1 name=f",
      "#cloudbook-sync v1 len=1 crc32=abcd version=5 writer=h:1 name=f",
      "#cloudbook-sync v1 len=1 crc32=0000abcg version=5 writer=h:1 name=f",
      "#cloudbook-sync v1 len=1 crc32=0000abcd version=0 writer=h:1 name=f",
      "#cloudbook-sync v1 len=1 crc32=0000abcd version=-5 writer=h:1 name=f",
      "#cloudbook-sync v1 len=1 crc32=0000abcd writer=h:1 name=f",  // no version
      "#cloudbook-sync v1 len=1 crc32=0000abcd version=5 name=f",   // no writer
      "#cloudbook-sync v1 len=1 crc32=0000abcd version=5 writer=h:1",
      "#cloudbook-sync v1 len=1 len=1 crc32=0000abcd version=5 writer=h:1 name=f",
      "#cloudbook-sync v1 len=1 crc32=0000abcd version=5 writer=h:1 name=../escape",
      "#cloudbook-sync v1 len=1 crc32=0000abcd version=5 writer=h:1 name=/abs",
      "#cloudbook-sync v1 len=1 crc32=0000abcd version=5 writer=h:1 name=a%2",
      "#cloudbook-sync v1 len=1 crc32=0000abcd version=5 writer=h%zz:1 name=a",
      "#cloudbook-sync v1 len=1 crc32=0000abcd version=5 writer= name=a",
      "#cloudbook-sync v1 len=1 crc32=0000abcd version=5 writer=h:1 name=a stray",
  };
  for (const std::string& line : bad_lines) {
    SCOPED_TRACE(line);
    const Result<SyncFileView> view = InspectSyncFile(line + "\nx");
    EXPECT_EQ(view.status().code(), Status::Code::kCorruption);
  }
  // The same fields, well formed, parse (so each case above fails for its one defect).
  const Result<SyncFileView> good = InspectSyncFile("#cloudbook-sync v1 len=1 " + good_crc +
                                                    " version=5 writer=h:1 name=a%20b\nx");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->header.name, "a b");
  EXPECT_EQ(good->state, SyncFileState::kIncomplete);  // 0000abcd is not the CRC of "x"

  // A header line that never ends is corrupt once it is longer than any header can be.
  const std::string endless = "#cloudbook-sync v1 " + std::string(kMaxSyncHeaderBytes, 'z');
  EXPECT_EQ(InspectSyncFile(endless).status().code(), Status::Code::kCorruption);
}

TEST(SyncEnvelopeTest, VersionsIncreaseStrictlyAndPassTheFloor) {
  int64_t last = NextSyncVersion();
  for (int i = 0; i < 10000; ++i) {
    const int64_t next = NextSyncVersion();
    ASSERT_GT(next, last);
    last = next;
  }
  const int64_t future = last + 3'600'000'000'000;  // a writer whose clock is an hour ahead
  EXPECT_EQ(NextSyncVersion(future), future + 1);
  EXPECT_GT(NextSyncVersion(), future + 1);
  EXPECT_NE(SyncWriterId().find(':'), std::string::npos);
}

}  // namespace
}  // namespace cloudbook
