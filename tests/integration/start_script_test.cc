// scripts/cloudbook-start.sh against a real tmux server on a private socket (its own
// TMUX_TMPDIR and -L name, so a user's tmux is never touched): five titled panes in the right
// folders with their usage printed, never a second session of the same name, the defaults
// from the current directory, and the exit codes of bad arguments and a missing tmux.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;

using ShellResult = testing::CommandResult;

class StartScript : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(project_.Join("original"));
    project_path_ = fs::canonical(project_.path()).string();
    const std::string pid = std::to_string(::getpid());
    socket_ = "cbtest-start-" + pid;
    session_ = "cbtest-" + pid;
  }

  void TearDown() override { (void)Shell(Tmux() + " kill-server"); }

  // The environment every command gets: the private tmux directory, this build's binaries,
  // and no $TMUX (the test may itself run inside someone's tmux).
  std::string Env() const {
    return "env -u TMUX TMUX_TMPDIR=" + tmux_dir_.path() +
           " CLOUDBOOK_BUILD_DIR=" + fs::path(CLOUDBOOK_BIN_DIR).parent_path().string() + " ";
  }

  std::string Tmux() const { return Env() + "tmux -L " + socket_; }

  static std::string Script() {
    return std::string(CLOUDBOOK_SOURCE_DIR) + "/scripts/cloudbook-start.sh";
  }

  // Runs a shell command line without a terminal (stdin from /dev/null).
  ShellResult Shell(const std::string& command) {
    return testing::RunShell(command, scratch_.Join("stderr.txt"));
  }

  ShellResult Start(const std::string& arguments) {
    return Shell(Env() + Script() + " " + arguments);
  }

  static bool WaitFor(const std::function<bool()>& done, double timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<int>(timeout_s * 1000));
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }

  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) lines.push_back(line);
    }
    return lines;
  }

  // "title path" of every pane of the session.
  std::multiset<std::string> Panes(const std::string& session) {
    const ShellResult listed = Shell(Tmux() + " list-panes -s -t '=" + session +
                                     "' -F '#{pane_title} #{pane_current_path}'");
    const auto lines = Lines(listed.out);
    return {lines.begin(), lines.end()};
  }

  // The text of the pane titled `title` (wrapped lines joined).
  std::string PaneText(const std::string& session, const std::string& title) {
    const ShellResult ids =
        Shell(Tmux() + " list-panes -s -t '=" + session + "' -F '#{pane_title} #{pane_id}'");
    for (const std::string& line : Lines(ids.out)) {
      if (line.rfind(title + " ", 0) != 0) continue;
      return Shell(Tmux() + " capture-pane -p -J -t '" + line.substr(title.size() + 1) + "'").out;
    }
    return "";
  }

  bool HaveTmux() { return Shell("command -v tmux").exit_code == 0; }

  testing::ScratchDir tmux_dir_;
  testing::ScratchDir project_;
  testing::ScratchDir scratch_;
  std::string project_path_;
  std::string socket_;
  std::string session_;
};

TEST_F(StartScript, FiveTitledPanesInTheirFoldersWithUsageAndNeverTwice) {
  if (!HaveTmux()) GTEST_SKIP() << "tmux is not installed (apt-get install tmux)";
  const std::string arguments =
      "--project-folder " + project_.path() + " --session " + session_ + " --socket " + socket_;
  const ShellResult started = Start(arguments);  // no terminal: detached
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  EXPECT_NE(started.out.find("attach with: tmux -L " + socket_ + " attach -t " + session_),
            std::string::npos)
      << started.out;

  const std::multiset<std::string> expected = {
      "maker " + project_path_, "deployer " + project_path_, "launcher " + project_path_,
      "agent " + project_path_ + "/agents", "dashboard " + project_path_};
  std::multiset<std::string> panes;
  EXPECT_TRUE(WaitFor([&] { return (panes = Panes(session_)) == expected; }, 10))
      << ::testing::PrintToString(panes);

  // Each pane prints its usage, with the project folder filled in.
  const std::map<std::string, std::string> usage = {
      {"maker", "cloudbook-maker --project-folder " + project_path_ + " --subnets 3"},
      {"deployer", "cloudbook-deployer --project-folder " + project_path_ + " -s 5"},
      {"launcher", "cloudbook-run --project-folder " + project_path_},
      {"agent", "cloudbook-agent launch --project-folder " + project_path_ + " --agent-id agent-0"},
      {"dashboard", "cloudbook-dashboard --project-folder " + project_path_},
  };
  for (const auto& [title, line] : usage) {
    std::string text;
    EXPECT_TRUE(WaitFor(
        [&] { return (text = PaneText(session_, title)).find(line) != std::string::npos; }, 10))
        << title << " pane shows:\n"
        << text;
  }
  // This build's bin folder is in the panes' PATH: the agent pane finds cloudbook-agent.
  EXPECT_EQ(PaneText(session_, "agent").find("cloudbook-agent is not built yet"), std::string::npos)
      << PaneText(session_, "agent");

  // A second start finds the session and leaves it alone.
  const ShellResult again = Start(arguments + " --no-attach");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("exists already"), std::string::npos) << again.out;
  EXPECT_EQ(Lines(Shell(Tmux() + " list-sessions -F '#{session_name}'").out),
            std::vector<std::string>{session_});
  EXPECT_EQ(Panes(session_), expected);
}

TEST_F(StartScript, TheCurrentDirectoryIsTheProjectUnlessToldAndAttachNeedsATerminal) {
  if (!HaveTmux()) GTEST_SKIP() << "tmux is not installed (apt-get install tmux)";
  // Started from inside the project folder, by a relative path to the script.
  const fs::path script = fs::relative(Script(), project_path_);
  const ShellResult started = Shell("cd " + project_path_ + " && " + Env() + script.string() +
                                    " --socket " + socket_ + " --attach");
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  EXPECT_NE(started.err.find("no terminal to attach from"), std::string::npos) << started.err;
  std::string name = fs::path(project_path_).filename().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  }
  const std::string session = "cloudbook-" + name;
  EXPECT_NE(started.out.find("attach -t " + session), std::string::npos) << started.out;
  std::multiset<std::string> panes;
  EXPECT_TRUE(WaitFor([&] { return (panes = Panes(session)).size() == 5; }, 10))
      << ::testing::PrintToString(panes);
  EXPECT_EQ(panes.count("agent " + project_path_ + "/agents"), 1u)
      << ::testing::PrintToString(panes);
}

TEST_F(StartScript, BadArgumentsExitTwoAndAMissingTmuxExitsThree) {
  const ShellResult help = Start("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Usage: cloudbook-start.sh"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos) << help.out;

  EXPECT_EQ(Start("--bogus").exit_code, 2);
  EXPECT_EQ(Start("--session").exit_code, 2);
  EXPECT_EQ(Start("--project-folder " + project_.Join("missing")).exit_code, 2);
  const ShellResult bad_name =
      Start("--project-folder " + project_.path() + " --session 'two words'");
  EXPECT_EQ(bad_name.exit_code, 2);
  EXPECT_NE(bad_name.err.find("session name"), std::string::npos) << bad_name.err;

  const ShellResult no_tmux =
      Shell("CLOUDBOOK_TMUX=/nonexistent/tmux " + Env() + Script() + " --project-folder " +
            project_.path() + " --socket " + socket_ + " --no-attach");
  EXPECT_EQ(no_tmux.exit_code, 3);
  EXPECT_NE(no_tmux.err.find("apt-get install tmux"), std::string::npos) << no_tmux.err;
}

}  // namespace
}  // namespace cloudbook
