// The pure pieces of the rclone back end's rc talk: error classes, fs strings, quoting,
// rcd's port line, times.
#include "fs_adapters/rclone_rc.h"

#include <gtest/gtest.h>

namespace cloudbook {
namespace {

TEST(RcloneErrorTest, MissingFilesAndFoldersAreNotFound) {
  EXPECT_EQ(ClassifyRcloneError(404, "object not found"), RcloneErrorKind::kNotFound);
  EXPECT_EQ(ClassifyRcloneError(404, "error in ListJSON: directory not found"),
            RcloneErrorKind::kNotFound);
  EXPECT_EQ(ClassifyRcloneError(500, "couldn't open: object not found"),
            RcloneErrorKind::kNotFound);
  EXPECT_EQ(ClassifyRcloneError(500,
                                "failed to open source object: Open failed: file does not "
                                "exist"),
            RcloneErrorKind::kNotFound);
  EXPECT_EQ(ClassifyRcloneError(500, "open file failed: 404 Not Found"),
            RcloneErrorKind::kNotFound);
  EXPECT_EQ(ClassifyRcloneError(500, "googleapi: Error 404: File not found: 1aB., notFound"),
            RcloneErrorKind::kNotFound);
}

TEST(RcloneErrorTest, AnswersAboutThePathAreTheirOwnKinds) {
  EXPECT_EQ(ClassifyRcloneError(500, "List failed: is a file not a directory"),
            RcloneErrorKind::kNotADirectory);
  EXPECT_EQ(ClassifyRcloneError(500, "is a directory not a file"), RcloneErrorKind::kIsADirectory);
  EXPECT_EQ(ClassifyRcloneError(500, "directory not empty"), RcloneErrorKind::kNotEmpty);
  EXPECT_EQ(ClassifyRcloneError(500, "didn't find section in config file"),
            RcloneErrorKind::kNoSuchRemote);
  EXPECT_EQ(ClassifyRcloneError(500, "permission denied"), RcloneErrorKind::kOther);
  EXPECT_EQ(ClassifyRcloneError(400, "Didn't find key \"fs\" in input"), RcloneErrorKind::kOther);
}

TEST(RcloneErrorTest, NetworkServiceAndRateLimitFailuresAreTransient) {
  const char* const transient[] = {
      "couldn't list files: Propfind \"http://127.0.0.1:1/p/\": dial tcp 127.0.0.1:1: connect: "
      "connection refused",
      "read tcp 127.0.0.1:5->127.0.0.1:6: read: connection reset by peer",
      "Put \"http://h/x\": unexpected EOF",
      "Get \"https://h/x\": EOF",
      "net/http: timeout awaiting response headers",
      "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
      "googleapi: Error 403: Rate Limit Exceeded, rateLimitExceeded",
      "googleapi: Error 403: User Rate Limit Exceeded. Rate of requests for user exceed "
      "configured project quota, userRateLimitExceeded",
      "googleapi: Error 500: Internal Error, backendError",
      "activityLimitReached: The request has been throttled",
      "429 Too Many Requests",
      "Service Unavailable: 503 Service Unavailable",
      "corrupted on transfer: sizes differ 1000 vs 1200",
      "Update mkParentDir failed: Locked: 423 Locked",
  };
  for (const char* text : transient) {
    EXPECT_EQ(ClassifyRcloneError(500, text), RcloneErrorKind::kTransient) << text;
  }
  EXPECT_EQ(ClassifyRcloneError(503, "rc server busy"), RcloneErrorKind::kTransient);
  // "EOF" inside a word (a file name) is not a cut connection; a full quota is not a rate
  // limit and does not pass by itself.
  EXPECT_FALSE(IsTransientRcloneMessage("cannot update geofence.json: permission denied"));
  EXPECT_FALSE(IsTransientRcloneMessage(
      "googleapi: Error 403: The user's Drive storage quota has been exceeded., "
      "storageQuotaExceeded"));
}

TEST(RcloneFsTest, FoldersJoinUnderTheLocationPath) {
  EXPECT_EQ(RcloneFsFor("gdrive:", ""), "gdrive:");
  EXPECT_EQ(RcloneFsFor("gdrive:", "a/b"), "gdrive:a/b");
  EXPECT_EQ(RcloneFsFor("onedrive:cloudbook/proj", "agents"), "onedrive:cloudbook/proj/agents");
  EXPECT_EQ(RcloneFsFor("remote:dir/", "x"), "remote:dir/x");
  EXPECT_EQ(RcloneFsFor(":webdav,url=\"http://127.0.0.1:8080\",vendor=rclone:proj", "a"),
            ":webdav,url=\"http://127.0.0.1:8080\",vendor=rclone:proj/a");
}

TEST(RcloneFsTest, LocationsSplitIntoRemoteAndPath) {
  EXPECT_EQ(SplitRcloneLocation("gdrive:a/b").remote, "gdrive:");
  EXPECT_EQ(SplitRcloneLocation("gdrive:a/b").path, "a/b");
  EXPECT_EQ(SplitRcloneLocation("gdrive:").path, "");
  const std::string webdav = ":webdav,url=\"http://h:1/x:y\",vendor=rclone:proj/t5";
  EXPECT_EQ(SplitRcloneLocation(webdav).remote, ":webdav,url=\"http://h:1/x:y\",vendor=rclone:");
  EXPECT_EQ(SplitRcloneLocation(webdav).path, "proj/t5");
  EXPECT_EQ(SplitRcloneLocation(":sftp,host=h,pass='a:b':p").path, "p");
}

TEST(RcloneFsTest, WritesGoThroughTheRootAboveTheFilesFolder) {
  // The file's folder is read as a root of its own; writes use the one above it.
  RcloneWriteRoot root = RcloneWriteRootFor("gdrive:cloudbook/p", "agents");
  EXPECT_EQ(root.fs, "gdrive:cloudbook/p");
  EXPECT_EQ(root.folder, "agents");
  root = RcloneWriteRootFor("gdrive:cloudbook/p", "checkpoints/du_1");
  EXPECT_EQ(root.fs, "gdrive:cloudbook/p/checkpoints");
  EXPECT_EQ(root.folder, "du_1");
  root = RcloneWriteRootFor("gdrive:cloudbook/p", "");  // a file at the top
  EXPECT_EQ(root.fs, "gdrive:cloudbook");
  EXPECT_EQ(root.folder, "p");
  root = RcloneWriteRootFor(":webdav,url=\"http://h:1\":t5/", "");
  EXPECT_EQ(root.fs, ":webdav,url=\"http://h:1\":");
  EXPECT_EQ(root.folder, "t5");
  root = RcloneWriteRootFor("gdrive:", "");  // nothing above the remote's root
  EXPECT_EQ(root.fs, "gdrive:");
  EXPECT_EQ(root.folder, "");
}

TEST(RcloneFsTest, SecretsOfConnectionStringsAreHidden) {
  EXPECT_EQ(RedactRcloneLocation(":sftp,host=127.0.0.1,port=22,user=u,pass=Xy9_-z:proj"),
            ":sftp,host=127.0.0.1,port=22,user=u,pass=***:proj");
  EXPECT_EQ(RedactRcloneLocation(":webdav,url=\"http://h:1/a,b\",bearer_token='t:k',x=1:p"),
            ":webdav,url=\"http://h:1/a,b\",bearer_token=***,x=1:p");
  EXPECT_EQ(RedactRcloneLocation("gdrive:cloudbook/p,q"), "gdrive:cloudbook/p,q");
  EXPECT_EQ(RedactRcloneLocation("s3,secret_access_key=abc:bucket"),
            "s3,secret_access_key=***:bucket");
}

TEST(RcloneQuotingTest, GlobsAndUrlsQuoteTheirSpecialCharacters) {
  EXPECT_EQ(EscapeRcloneGlob("state.json"), "state.json");
  EXPECT_EQ(EscapeRcloneGlob("a*b?[c]{d}\\e"), "a\\*b\\?\\[c\\]\\{d\\}\\\\e");
  EXPECT_EQ(PercentEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(PercentEncode(":webdav,url=\"http://h:1\":p q/r"),
            "%3Awebdav%2Curl%3D%22http%3A%2F%2Fh%3A1%22%3Ap%20q%2Fr");
  EXPECT_EQ(PercentEncode("\xC3\xA9"), "%C3%A9");
}

TEST(RcloneDaemonOutputTest, PortComesFromTheServingLine) {
  EXPECT_EQ(ParseServingPort(
                "2026/12/04 13:40:35 NOTICE: Serving remote control on http://127.0.0.1:35771/"),
            35771);
  EXPECT_EQ(ParseServingPort("2026/12/04 13:40:35 NOTICE: Config file not found"), 0);
  EXPECT_EQ(ParseServingPort("Serving remote control on http://127.0.0.1:/"), 0);
  EXPECT_EQ(ParseServingPort("Serving remote control on http://127.0.0.1:999999/"), 0);
}

TEST(RcloneTimeTest, ParsesWhatLsjsonPrintsAndFormatsRoundTrip) {
  int64_t ns = 0;
  ASSERT_TRUE(ParseRcloneTime("1970-01-01T00:00:01Z", &ns));
  EXPECT_EQ(ns, 1000000000);
  ASSERT_TRUE(ParseRcloneTime("2026-12-04T13:37:19Z", &ns));
  EXPECT_EQ(ns, 1796391439LL * 1000000000LL);
  ASSERT_TRUE(ParseRcloneTime("2026-12-04T14:37:19.5+01:00", &ns));
  EXPECT_EQ(ns, 1796391439LL * 1000000000LL + 500000000);
  ASSERT_TRUE(ParseRcloneTime("2026-12-04T13:37:19.123456789123Z", &ns));  // extra digits cut
  EXPECT_EQ(ns % 1000000000, 123456789);
  ASSERT_TRUE(ParseRcloneTime("1969-12-31T23:59:59Z", &ns));
  EXPECT_EQ(ns, -1000000000);
  for (const char* bad : {"", "2026-12-04", "2026-12-04T13:37:19", "2026-13-04T13:37:19Z",
                          "2026-12-04T13:37:19.Z", "2026-12-04T13:37:19Zjunk"}) {
    EXPECT_FALSE(ParseRcloneTime(bad, &ns)) << bad;
  }
  EXPECT_EQ(FormatRcloneTime(1796391439LL * 1000000000LL + 42), "2026-12-04T13:37:19.000000042Z");
  for (const int64_t value :
       {int64_t{0}, int64_t{-1}, int64_t{951782400123456789}, int64_t{4102444799999999999}}) {
    ASSERT_TRUE(ParseRcloneTime(FormatRcloneTime(value), &ns)) << FormatRcloneTime(value);
    EXPECT_EQ(ns, value);
  }
}

}  // namespace
}  // namespace cloudbook
