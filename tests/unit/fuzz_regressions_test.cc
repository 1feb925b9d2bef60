// Replays the inputs the fuzz targets (fuzz/) once crashed on, kept in
// tests/fuzz_regressions/<target>/, through the same entry functions: each must now be
// refused with an error Status (and not crash). A file named accepted-* was a finding of the
// target's own invariant checks on a valid input (not a parser bug): it must be accepted. Also
// checks that a valid seed of each committed corpus is accepted, so the entries do reach the
// parsers.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "fuzz/fuzz_entries.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using Replay = std::function<Status(const uint8_t*, size_t)>;

const std::map<std::string, Replay>& Targets() {
  static const std::map<std::string, Replay> targets = {
      {"wire", ReplayWire}, {"program", ReplayProgram}, {"shared_json", ReplaySharedJson},
      {"idx", ReplayIdx},   {"csv", ReplayCsv},         {"keras_import", ReplayKerasImport}};
  return targets;
}

Status ReplayFile(const std::string& target, const std::string& path) {
  const std::string bytes = testing::ReadFileOrDie(path);
  return Targets().at(target)(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

TEST(FuzzRegressionsTest, EveryKeptCrashInputIsRefused) {
  const std::filesystem::path root = std::string(CLOUDBOOK_SOURCE_DIR) + "/tests/fuzz_regressions";
  int replayed = 0;
  for (const auto& folder : std::filesystem::directory_iterator(root)) {
    const std::string target = folder.path().filename().string();
    ASSERT_TRUE(Targets().count(target)) << "no fuzz target named " << target;
    for (const auto& input : std::filesystem::directory_iterator(folder.path())) {
      SCOPED_TRACE(input.path().string());
      const bool valid = input.path().filename().string().rfind("accepted-", 0) == 0;
      EXPECT_EQ(ReplayFile(target, input.path().string()).ok(), valid);
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0);
}

TEST(FuzzRegressionsTest, ValidSeedsAreAccepted) {
  // Seeds as scripts/fuzz.sh finds them: the committed corpus, and files the repository
  // keeps elsewhere (programs in configs/, Keras programs in tests/testdata/keras/).
  const std::string root = std::string(CLOUDBOOK_SOURCE_DIR) + "/";
  const std::map<std::string, std::string> seeds = {
      {"wire", "fuzz/corpus/wire/result_two_tensors"},
      {"program", "configs/fashion_cnn/original/fashion_cnn.yaml"},
      {"shared_json", "fuzz/corpus/shared_json/du_0"},
      {"idx", "fuzz/corpus/idx/images2_gz"},
      {"csv", "fuzz/corpus/csv/header"},
      {"keras_import", "tests/testdata/keras/mlp_functional.py"}};
  for (const auto& [target, seed] : seeds) {
    const Status status = ReplayFile(target, root + seed);
    EXPECT_TRUE(status.ok()) << target << "/" << seed << ": " << status.ToString();
  }
}

}  // namespace
}  // namespace cloudbook
