#include "tests/test_support.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <fstream>
#include <sstream>

namespace cloudbook::testing {

namespace fs = boost::filesystem;

ScratchDir::ScratchDir() {
  path_ = (fs::temp_directory_path() / fs::unique_path("cloudbook-test-%%%%-%%%%-%%%%")).string();
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  boost::system::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string ScratchDir::Join(const std::string& relative) const { return path_ + "/" + relative; }

void WriteFile(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  ASSERT_TRUE(out.good()) << "cannot write " << path;
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string SpecFashionMlpProgram() {
  std::ifstream in(std::string(CLOUDBOOK_SOURCE_DIR) + "/tests/testdata/spec_fashion_mlp.yaml");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();  // empty when missing: every test using it then fails visibly
}

bool SetUpFashionMlpProject(const std::string& project_folder) {
  if (!fs::exists(FashionMnistDir() + "/train-images-idx3-ubyte.gz")) return false;
  const fs::path project(project_folder);
  fs::create_directories(project / "original");
  fs::create_directories(project / "distributed/working_dir");
  fs::copy_file(
      std::string(CLOUDBOOK_SOURCE_DIR) + "/configs/fashion_mlp/original/fashion_mlp.yaml",
      project / "original/fashion_mlp.yaml");
  fs::create_directory_symlink(FashionMnistDir(),
                               project / "distributed/working_dir/fashion-mnist");
  return true;
}

namespace {

// Runs a complete `sh -c` line, collecting its stdout.
CommandResult RunRedirected(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = ::popen(command_line.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace

CommandResult RunShell(const std::string& command, const std::string& err_path) {
  CommandResult result = RunRedirected(command + " </dev/null 2>" + err_path);
  result.err = fs::exists(err_path) ? ReadFileOrDie(err_path) : "";
  return result;
}

CommandResult RunShellMerged(const std::string& command) {
  return RunRedirected(command + " </dev/null 2>&1");
}

std::string FashionMnistDir() { return "/usr/share/datasets/fashion-mnist"; }

double TestTimeScale() {
  static const double scale = [] {
    if (const char* text = std::getenv("CLOUDBOOK_TEST_TIME_SCALE")) {
      char* end = nullptr;
      const double value = std::strtod(text, &end);
      if (end != text && value >= 1 && value <= 100) return value;
    }
#if defined(__SANITIZE_THREAD__)
    return 5.0;
#elif defined(__SANITIZE_ADDRESS__)
    return 2.0;
#else
    return 1.0;
#endif
  }();
  return scale;
}

}  // namespace cloudbook::testing
