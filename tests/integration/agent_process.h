// A scratch project and real cloudbook-agent processes for integration tests: run a command
// to completion, launch an agent in the background (posix_spawn), wait with a bound, and
// kill every child left in teardown.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "shared/formats/announcement.h"
#include "shared/private_files.h"
#include "tests/test_support.h"

extern char** environ;

namespace cloudbook::testing {

namespace fs = boost::filesystem;

inline std::string Agent() { return std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-agent"; }

class AgentProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(project_.Join("distributed"));
    // Short intervals so that the test sees several announcements and stats files quickly.
    testing::WriteFile(project_.Join("distributed/config.json"),
                       R"({"announce_interval_s": 1, "stats_interval_s": 0.5})");
  }

  void TearDown() override {
    for (const pid_t pid : children_) {
      if (::waitpid(pid, nullptr, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  }

  // Runs `cloudbook-agent <arguments>` to completion (the binary has no waits of its own
  // longer than its --timeout).
  CommandResult Run(const std::string& arguments) {
    return testing::RunShell(Agent() + " " + arguments, scratch_.Join("stderr.txt"));
  }

  std::string P() const { return "--project-folder " + project_.path(); }

  std::string Create(const std::string& options) {
    const CommandResult created = Run("create " + P() + " " + options);
    EXPECT_EQ(created.exit_code, 0) << created.err;
    std::string id = created.out;
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id;
  }

  // Starts `cloudbook-agent launch` in the background; output goes to launch-<id>.log.
  pid_t Launch(const std::string& id) {
    log_path_ = scratch_.Join("launch-" + id + ".log");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const std::string binary = Agent();
    const std::string project = project_.path();
    std::vector<std::string> arguments = {binary,       "launch", "--project-folder", project,
                                          "--agent-id", id,       "--log-level",      "debug"};
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int error = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(error, 0) << "posix_spawn " << binary;
    if (error == 0) children_.push_back(pid);
    return error == 0 ? pid : -1;
  }

  // Starts a program in the background, output to `log` in the scratch folder.
  pid_t Spawn(const std::vector<std::string>& arguments, const std::string& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string path = scratch_.Join(log);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<std::string> copy = arguments;
    std::vector<char*> argv;
    for (std::string& argument : copy) argv.push_back(argument.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int error = ::posix_spawn(&pid, copy[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(error, 0) << "posix_spawn " << copy[0];
    if (error == 0) children_.push_back(pid);
    return error == 0 ? pid : -1;
  }

  std::string Log(const std::string& log) const {
    const std::string path = scratch_.Join(log);
    return boost::filesystem::exists(path) ? testing::ReadFileOrDie(path) : "";
  }

  std::string LaunchLog() const {
    return fs::exists(log_path_) ? testing::ReadFileOrDie(log_path_) : "";
  }

  // Polls every 50 ms until `done` or the timeout.
  static bool WaitFor(const std::function<bool()>& done, double timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<int>(timeout_s * 1000));
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }

  // The agent's announcement, only when present and valid (signature checked).
  Result<Announcement> ReadAnnouncement(const std::string& id) const {
    auto text = ReadRegularFileBounded(project_.Join("distributed/agents/" + id + ".json"),
                                       kMaxAnnouncementBytes);
    if (!text.ok()) return text.status();
    return ParseAnnouncement(*text, id);
  }

  // Waits until the agent announces itself running.
  bool WaitUntilRunning(const std::string& id, double timeout_s) const {
    return WaitFor(
        [&] {
          auto announcement = ReadAnnouncement(id);
          return announcement.ok() && announcement->status == AgentRunState::kRunning;
        },
        timeout_s);
  }

  // configs/fashion_mlp cut by `cloudbook-maker <maker_options>` (e.g. "--subnets 3
  // --train-limit 300"), set up first unless the test did. False when Fashion-MNIST is not
  // installed or the maker failed.
  bool MakeFashionMlpDus(const std::string& maker_options) {
    if (!fs::exists(project_.Join("original/fashion_mlp.yaml")) &&
        !testing::SetUpFashionMlpProject(project_.path())) {
      return false;
    }
    const CommandResult made = testing::RunShell(
        std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker " + P() + " " + maker_options,
        scratch_.Join("maker.err"));
    EXPECT_EQ(made.exit_code, 0) << made.out << made.err;
    return made.exit_code == 0;
  }

  // `cloudbook-agent create <options> --base-port <base_port>`, then launch: id and pid.
  std::pair<std::string, pid_t> CreateAndLaunch(const std::string& options, int base_port) {
    const std::string id = Create(options + " --base-port " + std::to_string(base_port));
    return {id, Launch(id)};
  }

  // Waits for the child to exit; its exit code, or -1 on timeout or a signal.
  int WaitForExit(pid_t pid, double timeout_s) {
    int status = 0;
    pid_t done = 0;
    WaitFor([&] { return (done = ::waitpid(pid, &status, WNOHANG)) != 0; }, timeout_s);
    if (done != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  ScratchDir project_;
  ScratchDir scratch_;
  std::vector<pid_t> children_;
  std::string log_path_;
};

}  // namespace cloudbook::testing
