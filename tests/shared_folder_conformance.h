// The SharedFolder conformance suite: the same tests for every back end (local folder, NFS,
// later rclone remotes). A back end's test file instantiates it with a factory that gives
// each test a fresh, empty shared folder and opens any number of independent clients on it:
//   INSTANTIATE_TEST_SUITE_P(Local, SharedFolderConformance,
//                            ::testing::Values(SharedFolderBackend{"Local", MakeLocalTarget}),
//                            SharedFolderBackendName);
// Include it from exactly one source file per test executable (it defines the tests); other
// files of that executable define CLOUDBOOK_CONFORMANCE_INSTANTIATE_ONLY before including it.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "shared/shared_folder.h"
#include "tests/test_support.h"

// Asserts that a Status-returning expression is ok, printing the Status otherwise.
#define CB_ASSERT_OK(expr)                                             \
  do {                                                                 \
    const ::cloudbook::Status cb_assert_status = (expr);               \
    ASSERT_TRUE(cb_assert_status.ok()) << cb_assert_status.ToString(); \
  } while (false)

namespace cloudbook::testing {

// One fresh, empty shared folder (existing) for one test.
class SharedFolderTarget {
 public:
  virtual ~SharedFolderTarget() = default;
  // A new client on the folder, independent of the others (its own connection, if any).
  virtual Result<std::unique_ptr<SharedFolder>> OpenClient() = 0;
  // The folder on this machine behind the back end (the local root, or the NFS server's
  // exported directory): used to play a crashed writer that left a temporary behind.
  virtual std::string HostPath() const = 0;
  // What the back end stored for `name`, as a reader of it gets it (the sync back end
  // unwraps its envelope).
  virtual std::string ReadHostFile(const std::string& name) const {
    return ReadFileOrDie(HostPath() + "/" + name);
  }
};

struct SharedFolderBackend {
  std::string name;
  // Returns nullptr and sets `skip_reason` when the back end cannot run on this machine.
  std::function<std::unique_ptr<SharedFolderTarget>(std::string* skip_reason)> make_target;
};

inline void PrintTo(const SharedFolderBackend& backend, std::ostream* out) { *out << backend.name; }

inline std::string SharedFolderBackendName(
    const ::testing::TestParamInfo<SharedFolderBackend>& info) {
  return info.param.name;
}

class SharedFolderConformance : public ::testing::TestWithParam<SharedFolderBackend> {
 protected:
  void SetUp() override {
    std::string skip_reason;
    target_ = GetParam().make_target(&skip_reason);
    if (target_ == nullptr) GTEST_SKIP() << GetParam().name << " not available: " << skip_reason;
    folder_ = OpenClient();
  }

  std::unique_ptr<SharedFolder> OpenClient() {
    Result<std::unique_ptr<SharedFolder>> client = target_->OpenClient();
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  std::unique_ptr<SharedFolderTarget> target_;
  std::unique_ptr<SharedFolder> folder_;
};

constexpr size_t kConformanceMaxBytes = 64 << 20;

// Self-checking content for version `sequence`: "<sequence> <length>\n" then `length` bytes
// derived from the sequence, then "\nend <sequence>\n". Lengths vary between versions.
inline std::string SelfCheckingContent(int sequence) {
  const size_t length = 1000 + (static_cast<size_t>(sequence) * 7919) % 150000;
  std::string body(length, static_cast<char>('a' + sequence % 26));
  return std::to_string(sequence) + " " + std::to_string(length) + "\n" + body + "\nend " +
         std::to_string(sequence) + "\n";
}

// The sequence of a whole SelfCheckingContent, or -1 when torn, empty or mixed.
inline int CheckSelfCheckingContent(const std::string& contents) {
  int sequence = -1;
  size_t length = 0;
  if (std::sscanf(contents.c_str(), "%d %zu", &sequence, &length) != 2 || sequence < 0) return -1;
  return contents == SelfCheckingContent(sequence) ? sequence : -1;
}

#ifndef CLOUDBOOK_CONFORMANCE_INSTANTIATE_ONLY

TEST_P(SharedFolderConformance, WriteReadRoundTrip) {
  std::string binary(300000, '\0');  // larger than one NFS RPC, with NUL bytes
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>((i * 31) % 251);
  CB_ASSERT_OK(folder_->WriteFileAtomically("data.bin", binary));
  Result<std::string> read = folder_->ReadFile("data.bin", kConformanceMaxBytes);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, binary);

  // Missing parent folders are created; an empty file is a file.
  CB_ASSERT_OK(folder_->WriteFileAtomically("deep/er/empty.txt", ""));
  read = folder_->ReadFile("deep/er/empty.txt", kConformanceMaxBytes);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "");
  EXPECT_EQ(target_->ReadHostFile("data.bin"), binary);
}

TEST_P(SharedFolderConformance, OverwriteReplacesTheWholeFile) {
  CB_ASSERT_OK(folder_->WriteFileAtomically("f.txt", std::string(5000, 'x')));
  CB_ASSERT_OK(folder_->WriteFileAtomically("f.txt", "short"));
  Result<std::string> read = folder_->ReadFile("f.txt", kConformanceMaxBytes);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "short");
}

// A writer rewrites one file while a reader on another client reads it in a loop: every read
// is one whole version, and versions never go backwards.
TEST_P(SharedFolderConformance, ConcurrentReaderNeverSeesATornFile) {
  std::unique_ptr<SharedFolder> reader = OpenClient();
  ASSERT_NE(reader, nullptr);
  CB_ASSERT_OK(folder_->WriteFileAtomically("state.txt", SelfCheckingContent(0)));

  constexpr int kVersions = 150;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::atomic<bool> writer_done{false};
  std::atomic<int> written{0};
  std::string writer_error;
  std::thread writer([&] {
    for (int sequence = 1; sequence <= kVersions; ++sequence) {
      if (std::chrono::steady_clock::now() > deadline) break;
      const Status status =
          folder_->WriteFileAtomically("state.txt", SelfCheckingContent(sequence));
      if (!status.ok()) {
        writer_error = status.ToString();
        break;
      }
      written = sequence;
    }
    writer_done = true;
  });

  int reads = 0;
  int last_sequence = 0;
  std::vector<std::string> problems;
  while (!writer_done && std::chrono::steady_clock::now() < deadline && problems.size() < 5) {
    Result<std::string> read = reader->ReadFile("state.txt", kConformanceMaxBytes);
    ++reads;
    if (!read.ok()) {
      problems.push_back("read failed: " + read.status().ToString());
      continue;
    }
    const int sequence = CheckSelfCheckingContent(*read);
    if (sequence < 0) {
      problems.push_back("torn or empty read of " + std::to_string(read->size()) + " bytes");
    } else if (sequence < last_sequence) {
      problems.push_back("went back from version " + std::to_string(last_sequence) + " to " +
                         std::to_string(sequence));
    } else {
      last_sequence = sequence;
    }
  }
  writer.join();
  EXPECT_EQ(writer_error, "");
  EXPECT_EQ(written.load(), kVersions) << "writer did not finish within the deadline";
  EXPECT_TRUE(problems.empty()) << problems.size() << " problem(s), first: " << problems[0];
  EXPECT_GT(reads, 10);
  // After the writer is done, the reader sees the last version (close-to-open).
  Result<std::string> final_read = reader->ReadFile("state.txt", kConformanceMaxBytes);
  ASSERT_TRUE(final_read.ok()) << final_read.status().ToString();
  EXPECT_EQ(CheckSelfCheckingContent(*final_read), written.load());
}

TEST_P(SharedFolderConformance, ListShowsEntriesAndSkipsTemporaries) {
  CB_ASSERT_OK(folder_->WriteFileAtomically("b.txt", "b"));
  CB_ASSERT_OK(folder_->WriteFileAtomically("a.txt", "a"));
  CB_ASSERT_OK(folder_->WriteFileAtomically("sub/c.txt", "c"));
  WriteFile(target_->HostPath() + "/.a.txt.tmp-0123abcd", "half a write");
  WriteFile(target_->HostPath() + "/sub/.c.txt.tmp-feed", "half a write");

  Result<std::vector<std::string>> root = folder_->List("");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(*root, (std::vector<std::string>{"a.txt", "b.txt", "sub"}));
  Result<std::vector<std::string>> sub = folder_->List("sub");
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  EXPECT_EQ(*sub, (std::vector<std::string>{"c.txt"}));
  EXPECT_EQ(folder_->List("missing").status().code(), Status::Code::kNotFound);
}

TEST_P(SharedFolderConformance, RemoveFilesAndEmptyFolders) {
  CB_ASSERT_OK(folder_->WriteFileAtomically("gone.txt", "x"));
  CB_ASSERT_OK(folder_->MakeFolders("empty"));
  CB_ASSERT_OK(folder_->Remove("gone.txt"));
  CB_ASSERT_OK(folder_->Remove("empty"));
  EXPECT_EQ(folder_->ReadFile("gone.txt", 100).status().code(), Status::Code::kNotFound);
  Result<SharedFileInfo> info = folder_->Stat("empty");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE(info->exists);
  EXPECT_EQ(folder_->Remove("gone.txt").code(), Status::Code::kNotFound);
  Result<std::vector<std::string>> root = folder_->List("");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->empty());
}

TEST_P(SharedFolderConformance, StatReportsExistenceSizeAndModificationTime) {
  const auto now_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const int64_t before = now_ns();
  CB_ASSERT_OK(folder_->WriteFileAtomically("s/file.txt", "12345"));
  const int64_t after = now_ns();

  Result<SharedFileInfo> file = folder_->Stat("s/file.txt");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(file->exists);
  EXPECT_FALSE(file->is_folder);
  EXPECT_EQ(file->size, 5u);
  constexpr int64_t kSlackNs = 2'000'000'000;  // file systems round times
  EXPECT_GE(file->modified_unix_ns, before - kSlackNs);
  EXPECT_LE(file->modified_unix_ns, after + kSlackNs);

  Result<SharedFileInfo> folder = folder_->Stat("s");
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  EXPECT_TRUE(folder->exists);
  EXPECT_TRUE(folder->is_folder);
  Result<SharedFileInfo> root = folder_->Stat("");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_TRUE(root->is_folder);

  Result<SharedFileInfo> missing = folder_->Stat("s/missing.txt");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->exists);
  missing = folder_->Stat("s/file.txt/below-a-file");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->exists);
}

TEST_P(SharedFolderConformance, MissingFileIsNotFound) {
  EXPECT_EQ(folder_->ReadFile("nothing.txt", 100).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(folder_->ReadFile("no/such/folder.txt", 100).status().code(), Status::Code::kNotFound);
}

TEST_P(SharedFolderConformance, OversizedReadIsRefused) {
  CB_ASSERT_OK(folder_->WriteFileAtomically("big.bin", std::string(1000, 'b')));
  const Result<std::string> refused = folder_->ReadFile("big.bin", 999);
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("limit"), std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(folder_->ReadFile("big.bin", 1000).ok());
  EXPECT_EQ(folder_->ReadFile("", 1000).status().code(), Status::Code::kInvalidArgument);
}

TEST_P(SharedFolderConformance, TwoClientsSeeEachOthersWrites) {
  std::unique_ptr<SharedFolder> other = OpenClient();
  ASSERT_NE(other, nullptr);
  CB_ASSERT_OK(folder_->WriteFileAtomically("from_a.txt", "a1"));
  Result<std::string> read = other->ReadFile("from_a.txt", 100);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "a1");

  CB_ASSERT_OK(other->WriteFileAtomically("from_b.txt", "b1"));
  Result<std::vector<std::string>> names = folder_->List("");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"from_a.txt", "from_b.txt"}));

  // An overwrite and a removal are visible to the other client at once.
  CB_ASSERT_OK(other->WriteFileAtomically("from_b.txt", "b2, longer"));
  read = folder_->ReadFile("from_b.txt", 100);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "b2, longer");
  Result<SharedFileInfo> info = folder_->Stat("from_b.txt");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 10u);
  CB_ASSERT_OK(other->Remove("from_a.txt"));
  EXPECT_EQ(folder_->ReadFile("from_a.txt", 100).status().code(), Status::Code::kNotFound);
}

TEST_P(SharedFolderConformance, CrashBetweenWriteAndRenameLeavesTheOldFile) {
  CB_ASSERT_OK(folder_->WriteFileAtomically("du/state.json", "{\"version\": 1}"));
  // The writer died after writing part of its temporary, before the rename.
  WriteFile(target_->HostPath() + "/du/.state.json.tmp-deadbeef", "{\"vers");

  std::unique_ptr<SharedFolder> reader = OpenClient();
  ASSERT_NE(reader, nullptr);
  Result<std::string> read = reader->ReadFile("du/state.json", 100);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "{\"version\": 1}");
  Result<std::vector<std::string>> names = reader->List("du");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"state.json"}));

  // A restarted writer goes on as usual.
  CB_ASSERT_OK(folder_->WriteFileAtomically("du/state.json", "{\"version\": 2}"));
  read = reader->ReadFile("du/state.json", 100);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "{\"version\": 2}");
}

TEST_P(SharedFolderConformance, NamesThatCouldEscapeTheFolderAreRefused) {
  const std::vector<std::string> bad = {
      "",      "/etc/passwd", "../escaped", "a/../../escaped",          "a//b", "./a",
      "a/./b", "a/..",        "a\\b",       std::string("nul\0byte", 8)};
  for (const std::string& name : bad) {
    SCOPED_TRACE("name '" + name + "'");
    EXPECT_EQ(folder_->WriteFileAtomically(name, "x").code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(folder_->ReadFile(name, 100).status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(folder_->Remove(name).code(), Status::Code::kInvalidArgument);
    if (!name.empty()) {
      EXPECT_EQ(folder_->Stat(name).status().code(), Status::Code::kInvalidArgument);
      EXPECT_EQ(folder_->List(name).status().code(), Status::Code::kInvalidArgument);
      EXPECT_EQ(folder_->MakeFolders(name).code(), Status::Code::kInvalidArgument);
    }
  }
  struct stat info;
  EXPECT_NE(::stat((target_->HostPath() + "/../escaped").c_str(), &info), 0);
  Result<std::vector<std::string>> names = folder_->List("");
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_P(SharedFolderConformance, MakeFoldersCreatesParentsAndIsIdempotent) {
  CB_ASSERT_OK(folder_->MakeFolders("p/q/r"));
  CB_ASSERT_OK(folder_->MakeFolders("p/q/r"));
  CB_ASSERT_OK(folder_->MakeFolders(""));
  Result<SharedFileInfo> info = folder_->Stat("p/q/r");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->is_folder);
  CB_ASSERT_OK(folder_->WriteFileAtomically("p/file", "x"));
  EXPECT_FALSE(folder_->MakeFolders("p/file").ok());
}

// One client used from several threads at once (components share one SharedFolder).
TEST_P(SharedFolderConformance, OneClientIsSafeToShareBetweenThreads) {
  constexpr int kThreads = 4;
  constexpr int kFilesPerThread = 20;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kFilesPerThread; ++i) {
        const std::string name = "t" + std::to_string(t) + "/f" + std::to_string(i);
        const std::string contents = SelfCheckingContent(t * 1000 + i);
        if (!folder_->WriteFileAtomically(name, contents).ok()) ++failures;
        Result<std::string> read = folder_->ReadFile(name, kConformanceMaxBytes);
        if (!read.ok() || *read != contents) ++failures;
        if (!folder_->List("t" + std::to_string(t)).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    Result<std::vector<std::string>> names = folder_->List("t" + std::to_string(t));
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(names->size(), static_cast<size_t>(kFilesPerThread));
  }
}

#endif  // CLOUDBOOK_CONFORMANCE_INSTANTIATE_ONLY

}  // namespace cloudbook::testing
