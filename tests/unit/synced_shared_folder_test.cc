// The sync-tolerant back end (sync://): the conformance suite, then a desktop sync client
// played step by step on this machine's copy of the folder: files from other machines
// arriving in pieces, conflict copies in the Google Drive, OneDrive and Dropbox styles,
// the clients' temporaries, the user's own files.
#include "fs_adapters/synced_shared_folder.h"

#include <fcntl.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fs_adapters/open_shared_folder.h"
#include "fs_adapters/sync_envelope.h"

#define CLOUDBOOK_CONFORMANCE_INSTANTIATE_ONLY  // shared_folder_local_test.cc defines the tests
#include "tests/shared_folder_conformance.h"

namespace cloudbook::testing {
namespace {

class SyncTarget : public SharedFolderTarget {
 public:
  SyncTarget() { ::mkdir(HostPath().c_str(), 0755); }
  Result<std::unique_ptr<SharedFolder>> OpenClient() override {
    return OpenSharedFolder("sync://" + HostPath());
  }
  std::string HostPath() const override { return scratch_.Join("shared"); }
  std::string ReadHostFile(const std::string& name) const override {
    const std::string raw = ReadFileOrDie(HostPath() + "/" + name);
    const Result<SyncFileView> view = InspectSyncFile(raw);
    EXPECT_TRUE(view.ok() && view->state == SyncFileState::kComplete) << name;
    return view.ok() ? std::string(SyncPayload(raw, *view)) : raw;
  }

 private:
  ScratchDir scratch_;
};

INSTANTIATE_TEST_SUITE_P(
    Sync, SharedFolderConformance,
    ::testing::Values(SharedFolderBackend{
        "Sync", [](std::string*) { return std::unique_ptr<SharedFolderTarget>(new SyncTarget); }}),
    SharedFolderBackendName);

constexpr size_t kMax = 1 << 20;
constexpr char kOtherMachine[] = "laptop:7";

// The bytes another machine's sync back end wrote for `name`.
std::string FromOtherMachine(const std::string& name, const std::string& payload, int64_t version) {
  return WrapInSyncEnvelope(payload, version, kOtherMachine, name);
}

// Plays the desktop sync client on this machine's copy: writes straight into the folder,
// in place and in pieces (no temporary, no rename), as a client that downloads into the
// file does.
class SyncClientSimulator {
 public:
  explicit SyncClientSimulator(std::string root) : root_(std::move(root)) {}

  // Creates (or truncates) `file` and writes bytes [0, end) of `bytes`.
  void StartDelivery(const std::string& file, const std::string& bytes, size_t end) {
    WriteAt(file, bytes.substr(0, end), O_TRUNC);
  }
  // Appends bytes [from, end) of `bytes`.
  void ContinueDelivery(const std::string& file, const std::string& bytes, size_t from,
                        size_t end) {
    WriteAt(file, bytes.substr(from, end - from), O_APPEND);
  }
  void Deliver(const std::string& file, const std::string& bytes) {
    StartDelivery(file, bytes, bytes.size());
  }
  bool Exists(const std::string& file) const {
    struct stat info;
    return ::lstat((root_ + "/" + file).c_str(), &info) == 0;
  }
  // What is on disk, unwrapped: the header of `file`.
  SyncEnvelopeHeader HeaderOf(const std::string& file) const {
    const Result<SyncFileView> view = InspectSyncFile(ReadFileOrDie(root_ + "/" + file));
    EXPECT_TRUE(view.ok() && view->state == SyncFileState::kComplete) << file;
    return view.ok() ? view->header : SyncEnvelopeHeader{};
  }

 private:
  void WriteAt(const std::string& file, const std::string& bytes, int mode) {
    const std::string path = root_ + "/" + file;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | mode, 0644);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  }
  std::string root_;
};

class SyncedSharedFolderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(folder_.MakeFolders("").ok()); }
  std::string Root() const { return scratch_.Join("drive"); }
  void ExpectIncomplete(const std::string& name) {
    const Result<std::string> read = folder_.ReadFile(name, kMax);
    EXPECT_EQ(read.status().code(), Status::Code::kIoError) << read.status().ToString();
    EXPECT_NE(read.status().message().find("incomplete (still syncing?)"), std::string::npos)
        << read.status().message();
  }
  std::string ReadOk(const std::string& name) {
    const Result<std::string> read = folder_.ReadFile(name, kMax);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    return read.ok() ? *read : "<error>";
  }
  std::vector<std::string> ListOk(const std::string& folder) {
    const Result<std::vector<std::string>> names = folder_.List(folder);
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    return names.ok() ? *names : std::vector<std::string>{"<error>"};
  }

  ScratchDir scratch_;
  SyncedSharedFolder folder_{scratch_.Join("drive"), "sync://" + scratch_.Join("drive")};
  SyncClientSimulator client_{scratch_.Join("drive")};
};

TEST_F(SyncedSharedFolderTest, HalfDeliveredFileIsNeverReturned) {
  ASSERT_TRUE(folder_.MakeFolders("du").ok());
  const std::string payload(20000, 'w');
  const std::string bytes = FromOtherMachine("du/state.json", payload, NextSyncVersion());

  client_.StartDelivery("du/state.json", bytes, 10);  // part of the header
  ExpectIncomplete("du/state.json");
  client_.ContinueDelivery("du/state.json", bytes, 10, bytes.size() / 2);
  ExpectIncomplete("du/state.json");
  // Already listed and stat-able, with the size it will have.
  EXPECT_EQ(ListOk("du"), std::vector<std::string>{"state.json"});
  const Result<SharedFileInfo> info = folder_.Stat("du/state.json");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->exists);
  EXPECT_EQ(info->size, payload.size());

  client_.ContinueDelivery("du/state.json", bytes, bytes.size() / 2, bytes.size());
  EXPECT_EQ(ReadOk("du/state.json"), payload);

  // A client that rewrites the file in place: the start of the new version over the old
  // one is not a mix of both.
  const std::string newer = FromOtherMachine("du/state.json", "v2", NextSyncVersion());
  client_.StartDelivery("du/state.json", newer, newer.size() - 1);
  ExpectIncomplete("du/state.json");
  client_.ContinueDelivery("du/state.json", newer, newer.size() - 1, newer.size());
  EXPECT_EQ(ReadOk("du/state.json"), "v2");

  // An empty file is what a client creates before the first byte arrives.
  client_.Deliver("du/empty.json", "");
  ExpectIncomplete("du/empty.json");
}

// The client appends a file in chunks while a reader on another thread reads it in a loop:
// the reader gets "incomplete" or the whole payload, nothing in between.
TEST_F(SyncedSharedFolderTest, ConcurrentReaderSeesIncompleteOrWhole) {
  std::string payload(64 * 1024, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i % 251);
  const std::string bytes = FromOtherMachine("model.bin", payload, NextSyncVersion());
  client_.StartDelivery("model.bin", bytes, 0);

  constexpr size_t kChunks = 32;
  std::atomic<int> reads{0};
  std::atomic<bool> delivered{false};
  int partial_states = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::thread sync_client([&] {
    const size_t chunk = bytes.size() / kChunks + 1;
    for (size_t from = 0; from < bytes.size(); from += chunk) {
      const size_t end = std::min(bytes.size(), from + chunk);
      client_.ContinueDelivery("model.bin", bytes, from, end);
      partial_states += end < bytes.size();
      // Two more finished reads: the second one started after this append (no sleep).
      const int seen = reads.load();
      while (reads.load() < seen + 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
    }
    delivered = true;
  });
  int incomplete = 0;
  int whole = 0;
  int wrong = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const bool was_delivered = delivered.load();
    const Result<std::string> read = folder_.ReadFile("model.bin", kMax);
    ++reads;
    if (read.ok()) {
      (*read == payload ? whole : wrong) += 1;
    } else if (read.status().code() == Status::Code::kIoError &&
               read.status().message().find("incomplete") != std::string::npos) {
      ++incomplete;
    } else {
      ++wrong;
    }
    if (was_delivered) break;  // this read started after the last byte arrived
  }
  sync_client.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_GE(incomplete, partial_states);
  EXPECT_GE(partial_states, 30);
  EXPECT_GE(whole, 1);
  EXPECT_EQ(ReadOk("model.bin"), payload);
}

struct ConflictStyle {
  const char* client;
  const char* copy_name;  // a conflict copy of "du.json"
};

const ConflictStyle kStyles[] = {
    {"Google Drive", "du (1).json"},
    {"OneDrive", "du-LAPTOP7.json"},
    {"OneDrive, second copy", "du-LAPTOP7-2.json"},
    {"Dropbox", "du (Jack's conflicted copy 2024-03-05).json"},
    {"Nextcloud", "du (conflicted copy 2024-03-05 101112).json"},
};

TEST_F(SyncedSharedFolderTest, NewerConflictCopyWinsAndIsWrittenBackAsTheFile) {
  for (const ConflictStyle& style : kStyles) {
    SCOPED_TRACE(style.client);
    ASSERT_TRUE(folder_.WriteFileAtomically("du.json", "ours, older").ok());
    const int64_t ours = client_.HeaderOf("du.json").version;
    client_.Deliver(style.copy_name, FromOtherMachine("du.json", "theirs, newer", ours + 1000));
    client_.Deliver("du (2).json", FromOtherMachine("du.json", "ancient", ours - 1000));

    EXPECT_EQ(ListOk(""), std::vector<std::string>{"du.json"});
    const Result<SharedFileInfo> info = folder_.Stat("du.json");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->size, std::string("theirs, newer").size());

    EXPECT_EQ(ReadOk("du.json"), "theirs, newer");
    EXPECT_FALSE(client_.Exists(style.copy_name));
    EXPECT_FALSE(client_.Exists("du (2).json"));
    // The file holds the winner with its own version and writer.
    const SyncEnvelopeHeader header = client_.HeaderOf("du.json");
    EXPECT_EQ(header.version, ours + 1000);
    EXPECT_EQ(header.writer, kOtherMachine);
    EXPECT_EQ(ReadOk("du.json"), "theirs, newer");
    EXPECT_EQ(ListOk(""), std::vector<std::string>{"du.json"});
    ASSERT_TRUE(folder_.Remove("du.json").ok());
  }
}

TEST_F(SyncedSharedFolderTest, OlderConflictCopyLosesAndIsRemoved) {
  for (const ConflictStyle& style : kStyles) {
    SCOPED_TRACE(style.client);
    ASSERT_TRUE(folder_.WriteFileAtomically("du.json", "ours, newer").ok());
    const int64_t ours = client_.HeaderOf("du.json").version;
    client_.Deliver(style.copy_name, FromOtherMachine("du.json", "theirs, older", ours - 1));
    EXPECT_EQ(ReadOk("du.json"), "ours, newer");
    EXPECT_FALSE(client_.Exists(style.copy_name));
    EXPECT_EQ(client_.HeaderOf("du.json").version, ours);
    ASSERT_TRUE(folder_.Remove("du.json").ok());
  }
}

TEST_F(SyncedSharedFolderTest, IncompleteNewestCopyWaitsUntilItIsWhole) {
  ASSERT_TRUE(folder_.WriteFileAtomically("du.json", "v1").ok());
  const int64_t v1 = client_.HeaderOf("du.json").version;
  client_.Deliver("du (1).json", FromOtherMachine("du.json", "v0", v1 - 10));      // Drive
  client_.Deliver("du-LAPTOP7.json", FromOtherMachine("du.json", "v2", v1 + 10));  // OneDrive
  const std::string v3 = FromOtherMachine("du.json", std::string(5000, '3'), v1 + 20);
  const std::string dropbox = "du (Jack's conflicted copy 2024-03-05).json";
  client_.StartDelivery(dropbox, v3, v3.size() / 2);

  // The newest complete version wins; the newer one still arriving stays.
  EXPECT_EQ(ReadOk("du.json"), "v2");
  EXPECT_EQ(client_.HeaderOf("du.json").version, v1 + 10);
  EXPECT_FALSE(client_.Exists("du (1).json"));
  EXPECT_FALSE(client_.Exists("du-LAPTOP7.json"));
  EXPECT_TRUE(client_.Exists(dropbox));
  EXPECT_EQ(ListOk(""), std::vector<std::string>{"du.json"});

  client_.ContinueDelivery(dropbox, v3, v3.size() / 2, v3.size());
  EXPECT_EQ(ReadOk("du.json"), std::string(5000, '3'));
  EXPECT_FALSE(client_.Exists(dropbox));
  EXPECT_EQ(ListOk(""), std::vector<std::string>{"du.json"});
}

TEST_F(SyncedSharedFolderTest, ACopyWithoutItsFileStandsInForIt) {
  ASSERT_TRUE(folder_.MakeFolders("agents").ok());
  client_.Deliver("agents/a (1).json", FromOtherMachine("agents/a.json", "{}", 5));
  EXPECT_EQ(ListOk("agents"), std::vector<std::string>{"a.json"});
  const Result<SharedFileInfo> info = folder_.Stat("agents/a.json");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->exists);
  EXPECT_EQ(info->size, 2u);
  EXPECT_EQ(ReadOk("agents/a.json"), "{}");
  EXPECT_TRUE(client_.Exists("agents/a.json"));
  EXPECT_FALSE(client_.Exists("agents/a (1).json"));
}

TEST_F(SyncedSharedFolderTest, EachCleanupIsLoggedOnce) {
  const auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
  spdlog::default_logger()->sinks().push_back(sink);
  ASSERT_TRUE(folder_.WriteFileAtomically("du.json", "ours").ok());
  const int64_t ours = client_.HeaderOf("du.json").version;
  client_.Deliver("du (1).json", FromOtherMachine("du.json", "theirs", ours + 1));
  client_.Deliver("du-LAPTOP7.json", FromOtherMachine("du.json", "old", ours - 1));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ReadOk("du.json"), "theirs");
  spdlog::default_logger()->sinks().pop_back();

  int restored = 0;
  int removed = 0;
  for (const std::string& line : sink->last_formatted()) {
    restored += line.find("restored from its conflict copy du (1).json") != std::string::npos;
    removed += line.find("removed conflict copy") != std::string::npos;
  }
  EXPECT_EQ(restored, 1);
  EXPECT_EQ(removed, 2);  // the loser, then the winner once written back
}

TEST_F(SyncedSharedFolderTest, TemporariesAreInvisible) {
  ASSERT_TRUE(folder_.WriteFileAtomically("sub/real.json", "1").ok());
  for (const std::string name :
       {"~$real.json", ".~lock.real.json#", "real.json.tmp", "x.partial", "x.crdownload",
        ".goutputstream-AB12CD", "desktop.ini", ".DS_Store", "Icon\r", ".real.json.tmp-0a1b",
        ".real.json.~5e2f"}) {
    client_.Deliver("sub/" + name, "temporary");
  }
  ASSERT_EQ(::mkdir((Root() + "/.tmp.drivedownload").c_str(), 0755), 0);
  EXPECT_EQ(ListOk("sub"), std::vector<std::string>{"real.json"});
  EXPECT_EQ(ListOk(""), std::vector<std::string>{"sub"});
  EXPECT_EQ(ReadOk("sub/real.json"), "1");
  // Writing under such a name is refused: the file would vanish from List.
  EXPECT_EQ(folder_.WriteFileAtomically("sub/out.tmp", "x").code(), Status::Code::kInvalidArgument);
}

TEST_F(SyncedSharedFolderTest, FilesWithoutTheEnvelopeAreReadAsIs) {
  ASSERT_TRUE(folder_.MakeFolders("working_dir").ok());
  const std::string csv = "label,pixel0\n3,0\n";
  client_.Deliver("working_dir/train.csv", csv);
  EXPECT_EQ(ReadOk("working_dir/train.csv"), csv);
  const Result<SharedFileInfo> info = folder_.Stat("working_dir/train.csv");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, csv.size());

  // The user's own file is never replaced by an enveloped copy naming it.
  client_.Deliver("working_dir/train (1).csv",
                  FromOtherMachine("working_dir/train.csv", "other", NextSyncVersion()));
  EXPECT_EQ(ReadOk("working_dir/train.csv"), csv);
  EXPECT_TRUE(client_.Exists("working_dir/train (1).csv"));
}

// Names shaped like copies are copies only when their envelope names the other file.
TEST_F(SyncedSharedFolderTest, LegitimateNamesAreNotConflictCopies) {
  const std::vector<std::string> names = {"du.json",    "du-3.json",     "du (1).json",
                                          "agent.json", "agent-a1.json", "agent-a1-2.json"};
  for (const std::string& name : names) {
    ASSERT_TRUE(folder_.WriteFileAtomically(name, "content of " + name).ok());
  }
  client_.Deliver("data.csv", "plain data");
  client_.Deliver("data-2.csv", "plain data too");  // the user's, shaped like a copy
  std::vector<std::string> expected = names;
  expected.push_back("data.csv");
  expected.push_back("data-2.csv");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ListOk(""), expected);
  for (const std::string& name : names) EXPECT_EQ(ReadOk(name), "content of " + name);
  EXPECT_EQ(ReadOk("data.csv"), "plain data");
  for (const std::string& name : expected) EXPECT_TRUE(client_.Exists(name)) << name;
  ASSERT_TRUE(folder_.Remove("du.json").ok());
  EXPECT_TRUE(client_.Exists("du-3.json"));
  EXPECT_TRUE(client_.Exists("du (1).json"));
}

TEST_F(SyncedSharedFolderTest, RemoveTakesTheCopiesAlong) {
  ASSERT_TRUE(folder_.WriteFileAtomically("du.json", "x").ok());
  client_.Deliver("du (1).json", FromOtherMachine("du.json", "y", 5));
  ASSERT_TRUE(folder_.Remove("du.json").ok());
  EXPECT_FALSE(client_.Exists("du (1).json"));
  EXPECT_EQ(folder_.ReadFile("du.json", kMax).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(folder_.Remove("du.json").code(), Status::Code::kNotFound);
  // A lone copy is its file: removing the file removes it.
  client_.Deliver("du-LAPTOP7.json", FromOtherMachine("du.json", "z", 6));
  ASSERT_TRUE(folder_.Remove("du.json").ok());
  EXPECT_FALSE(client_.Exists("du-LAPTOP7.json"));
}

TEST_F(SyncedSharedFolderTest, AWriteOutranksTheVersionItReplaces) {
  // The last writer's clock ran an hour ahead of ours.
  const int64_t ahead = NextSyncVersion() + 3'600'000'000'000;
  client_.Deliver("assignment.json", FromOtherMachine("assignment.json", "theirs", ahead));
  ASSERT_TRUE(folder_.WriteFileAtomically("assignment.json", "ours").ok());
  EXPECT_GT(client_.HeaderOf("assignment.json").version, ahead);
  EXPECT_EQ(client_.HeaderOf("assignment.json").name, "assignment.json");
  EXPECT_EQ(ReadOk("assignment.json"), "ours");
}

TEST(OpenSyncedSharedFolderTest, LocationsAndDescription) {
  ScratchDir scratch;
  const std::string location = "sync://" + scratch.Join("d");
  Result<std::unique_ptr<SharedFolder>> folder = OpenSharedFolder(location);
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  EXPECT_EQ((*folder)->Describe(), location);
  EXPECT_EQ((*folder)->LocalPath("x"), std::nullopt);
  ASSERT_TRUE((*folder)->WriteFileAtomically("x", "1").ok());
  EXPECT_NE(ReadFileOrDie(scratch.Join("d/x")).find("#cloudbook-sync v1 "), std::string::npos);

  folder = OpenSharedFolder("sync://relative/path");  // opening touches nothing
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  EXPECT_EQ((*folder)->Describe(), "sync://relative/path");
  EXPECT_EQ(OpenSharedFolder("sync://").status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace cloudbook::testing
