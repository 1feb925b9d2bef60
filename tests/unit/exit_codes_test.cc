// shared/exit_codes.h: one table of exit codes for every program. Every Status code maps to a
// code of the table, distinct meanings have distinct codes, a bad command line (CLI11's own
// errors included) ends with kExitUsage, and README.md's table lists exactly these codes.
#include "shared/exit_codes.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "shared/command_line.h"

namespace cloudbook {
namespace {

const ExitCodeRow* FindRow(int code) {
  for (const ExitCodeRow& row : ExitCodeTable()) {
    if (row.code == code) return &row;
  }
  return nullptr;
}

TEST(ExitCodes, EveryStatusCodeMapsToACodeOfTheTable) {
  const std::vector<Status> one_of_each = {
      Status::Ok(),         Status::InvalidArgument("x"), Status::NotFound("x"),
      Status::IoError("x"), Status::Corruption("x"),      Status::Internal("x")};
  std::set<Status::Code> covered;
  for (const Status& status : one_of_each) {
    covered.insert(status.code());
    EXPECT_NE(FindRow(ExitCodeFor(status)), nullptr) << status.ToString();
  }
  // Every Status::Code (kInternal is the last; -Wswitch in exit_codes.cc flags a new one).
  EXPECT_EQ(covered.size(), static_cast<size_t>(Status::Code::kInternal) + 1);
}

TEST(ExitCodes, TheMappingGroupsStatusCodesByWhatTheUserDoesNext) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), kExitOk);
  EXPECT_EQ(ExitCodeFor(Status::InvalidArgument("bad width")), kExitInvalidInput);
  EXPECT_EQ(ExitCodeFor(Status::NotFound("no such agent")), kExitInvalidInput);
  EXPECT_EQ(ExitCodeFor(Status::IoError("disk full")), kExitIo);
  EXPECT_EQ(ExitCodeFor(Status::Corruption("torn file")), kExitIo);
  EXPECT_EQ(ExitCodeFor(Status::Internal("libtorch")), kExitInternal);
  // The context added on the way up does not change the code.
  EXPECT_EQ(ExitCodeFor(Status::NotFound("x").WithContext("reading y")), kExitInvalidInput);
}

TEST(ExitCodes, DistinctMeaningsHaveDistinctCodesAndEachIsInTheTable) {
  const std::vector<int> named = {kExitOk,       kExitInternal,   kExitUsage,    kExitInvalidInput,
                                  kExitIo,       kExitFailed,     kExitConflict, kExitUnavailable,
                                  kExitTimedOut, kExitInterrupted};
  EXPECT_EQ(std::set<int>(named.begin(), named.end()).size(), named.size());
  ASSERT_EQ(ExitCodeTable().size(), named.size());
  std::set<std::string> names, meanings;
  int previous = -1;
  for (const ExitCodeRow& row : ExitCodeTable()) {
    EXPECT_GT(row.code, previous) << "increasing order";
    previous = row.code;
    EXPECT_GE(row.code, 0);
    EXPECT_LE(row.code, 255) << "a process exit status is one byte";
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
    EXPECT_TRUE(meanings.insert(row.meaning).second) << row.meaning;
    EXPECT_FALSE(std::string(row.meaning).empty()) << row.name;
  }
  for (int code : named) EXPECT_NE(FindRow(code), nullptr) << code;
  // The numbers are the contract with scripts (README.md); 2 to 6 and 130 kept the meaning most
  // programs gave them before the table.
  EXPECT_EQ(kExitOk, 0);
  EXPECT_EQ(kExitInternal, 1);
  EXPECT_EQ(kExitUsage, 2);
  EXPECT_EQ(kExitInvalidInput, 3);
  EXPECT_EQ(kExitIo, 4);
  EXPECT_EQ(kExitFailed, 5);
  EXPECT_EQ(kExitConflict, 6);
  EXPECT_EQ(kExitUnavailable, 7);
  EXPECT_EQ(kExitTimedOut, 8);
  EXPECT_EQ(kExitInterrupted, 130);
}

TEST(ExitCodes, TheHelpEpilogListsEveryCodeAndPointsToTheReadme) {
  const std::string help = ExitCodesHelp() + "\n";
  EXPECT_EQ(help.rfind("Exit codes", 0), 0u) << help;
  EXPECT_NE(help.find("README.md"), std::string::npos) << help;
  for (const ExitCodeRow& row : ExitCodeTable()) {
    EXPECT_NE(help.find(std::to_string(row.code) + "  " + row.meaning + "\n"), std::string::npos)
        << row.name << "\n"
        << help;
  }
}

// README.md's "Exit codes" table has one row per code, "| 3 | `kExitInvalidInput` | ...".
TEST(ExitCodes, TheReadmeTableListsExactlyTheseCodes) {
  std::ifstream in(std::string(CLOUDBOOK_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md";
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const size_t section = readme.find("\n## Exit codes\n");
  ASSERT_NE(section, std::string::npos) << "README.md has no \"## Exit codes\" section";
  const size_t end = readme.find("\n## ", section + 1);
  const std::string table = readme.substr(section, end - section);
  size_t rows = 0;
  for (size_t at = table.find("\n| "); at != std::string::npos; at = table.find("\n| ", at + 1)) {
    if (std::isdigit(static_cast<unsigned char>(table[at + 3]))) ++rows;
  }
  EXPECT_EQ(rows, ExitCodeTable().size()) << table;
  for (const ExitCodeRow& row : ExitCodeTable()) {
    const std::string expected =
        "\n| " + std::to_string(row.code) + " | `" + std::string(row.name) + "` |";
    EXPECT_NE(table.find(expected), std::string::npos) << expected << "\n" << table;
  }
}

// CLI11 gives its parse errors codes of its own (106 for a failed check, ...): every one ends
// as kExitUsage, and --help as kExitOk.
TEST(ExitCodes, EveryBadCommandLineEndsWithTheUsageCode) {
  const auto parse = [](std::vector<std::string> words) {
    CLI::App app{"test"};
    std::string folder;
    int count = 1;
    app.add_option("--project-folder", folder)->required();
    app.add_option("--count", count)->check(CLI::Range(1, 9));
    std::vector<char*> argv;
    words.insert(words.begin(), "program");
    for (std::string& word : words) argv.push_back(word.data());
    return ParseCommandLine(app, static_cast<int>(argv.size()), argv.data());
  };
  EXPECT_EQ(parse({"--project-folder", "p"}), std::nullopt);
  EXPECT_EQ(parse({"--help"}), kExitOk);
  EXPECT_EQ(parse({"--project-folder", "p", "--bogus"}), kExitUsage);       // extras
  EXPECT_EQ(parse({}), kExitUsage);                                         // required
  EXPECT_EQ(parse({"--project-folder", "p", "--count", "0"}), kExitUsage);  // a check
  EXPECT_EQ(parse({"--project-folder", "p", "--count", "x"}), kExitUsage);  // conversion
  EXPECT_EQ(parse({"--project-folder", "p", "--count"}), kExitUsage);       // no value
}

}  // namespace
}  // namespace cloudbook
