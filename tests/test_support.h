// Helpers shared by the test suites: scratch folders that clean up after themselves and
// small file writers.
#pragma once

#include <chrono>
#include <string>

namespace cloudbook::testing {

// A fresh folder under the system temp dir, removed (recursively) on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  // path() + "/" + relative
  std::string Join(const std::string& relative) const;

 private:
  std::string path_;
};

// What a finished command printed and how it ended.
struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal, or could not start
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs a shell command line to completion (sh -c, stdin from /dev/null); stderr goes
// through `err_path`. Programs under test bound their own waits (--timeout, --wait).
CommandResult RunShell(const std::string& command, const std::string& err_path);
// The same with stderr merged into `out` (what a user sees on the terminal).
CommandResult RunShellMerged(const std::string& command);

// Writes bytes to a file, creating parent folders. Aborts the test on failure.
void WriteFile(const std::string& path, const std::string& bytes);
std::string ReadFileOrDie(const std::string& path);

// The example program of docs/design/program.md, verbatim (tests/testdata/).
std::string SpecFashionMlpProgram();

// Fills `project_folder` with configs/fashion_mlp (original/fashion_mlp.yaml) and links
// Fashion-MNIST into distributed/working_dir/fashion-mnist. False (nothing done) when the
// data set is not installed: callers GTEST_SKIP.
bool SetUpFashionMlpProject(const std::string& project_folder);

// Where Debian's dataset-fashion-mnist puts the IDX files.
std::string FashionMnistDir();

// How much longer than usual time limits in tests may be: sanitized builds run several times
// slower (a CURVE handshake under ThreadSanitizer takes longer than a 0.6 s peer timeout).
// CLOUDBOOK_TEST_TIME_SCALE overrides; else 5 under TSan, 2 under ASan, 1 otherwise.
double TestTimeScale();
// `limit` times TestTimeScale().
template <typename Rep, typename Period>
std::chrono::milliseconds Scaled(std::chrono::duration<Rep, Period> limit) {
  return std::chrono::milliseconds(static_cast<int64_t>(
      std::chrono::duration<double, std::milli>(limit).count() * TestTimeScale()));
}

}  // namespace cloudbook::testing
