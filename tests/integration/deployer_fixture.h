// Real cloudbook-deployer processes on a project made by the real maker, with real launched
// agents (AgentProcessTest). Intervals are short (announcements every 0.5 s, lost after 2 s)
// so that surveillance decisions come within seconds; every wait is bounded.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "shared/formats/assignment.h"
#include "tests/integration/agent_process.h"
#include "tests/test_support.h"

namespace cloudbook::testing {

inline std::string Deployer() { return std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-deployer"; }

inline CommandResult RunCommand(const std::string& command, const std::string& err_path) {
  return RunShell(command, err_path);
}

class DeployerProcessTest : public AgentProcessTest {
 protected:
  void SetUp() override {
    AgentProcessTest::SetUp();
    WriteFile(project_.Join("distributed/config.json"),
              R"({"announce_interval_s": 0.5, "stats_interval_s": 0.5, "liveness_timeout_s": 2})");
    base_port_ = 25000 + static_cast<int>(::getpid() % 20000);
  }

  // The configs/fashion_mlp project cut into 6 subnets (6 DUs). False when the data set is
  // not installed.
  bool MakeDus() { return MakeFashionMlpDus("--subnets 6 --train-limit 600 --test-limit 200"); }

  CommandResult Deploy(const std::string& arguments) {
    return RunCommand(Deployer() + " " + arguments, scratch_.Join("deployer.err"));
  }

  // A deployer in the background; its log goes to `log_name` in the scratch folder.
  pid_t StartDeployer(const std::vector<std::string>& options,
                      const std::string& log_name = "deployer.log") {
    const std::string log = scratch_.Join(log_name);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<std::string> arguments = {Deployer(), "--project-folder", project_.path()};
    arguments.insert(arguments.end(), options.begin(), options.end());
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int error =
        ::posix_spawn(&pid, arguments[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(error, 0) << "posix_spawn " << arguments[0];
    if (error == 0) children_.push_back(pid);
    return error == 0 ? pid : -1;
  }

  std::string DeployerLog(const std::string& log_name = "deployer.log") const {
    const std::string log = scratch_.Join(log_name);
    return fs::exists(log) ? ReadFileOrDie(log) : "";
  }

  // Creates and launches an agent; waits until it announces "running".
  std::pair<std::string, pid_t> LaunchAgent(const std::string& options) {
    return CreateAndLaunch(options, base_port_);
  }

  bool Running(const std::string& id) { return WaitUntilRunning(id, 20); }

  Result<Assignment> Assigned() const { return ReadAssignment(project_.Join("distributed")); }

  int base_port_ = 0;
};

}  // namespace cloudbook::testing
