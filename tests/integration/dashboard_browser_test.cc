// The dashboard in a real browser during a short real run: headless Chromium loads the page
// while two agents train a Fashion-MNIST slice (maker, agents, deployer, cloudbook-run as
// real processes). The test checks the agent table, live stats charts with data points, the
// training curves of the run, and that clicking "stop" stops the agent process. The final
// page is kept as a screenshot (test-artifacts/dashboard.png in the build folder).
#include <gtest/gtest.h>

#include "tests/headless_browser.h"
#include "tests/integration/dashboard_fixture.h"

namespace cloudbook::testing {
namespace {

using std::chrono::seconds;

std::string Bin(const std::string& name) { return std::string(CLOUDBOOK_BIN_DIR) + "/" + name; }

// The JS expression: the named chart exists and one of its lines has at least `points`.
std::string ChartHasPoints(const std::string& name_prefix, int points) {
  return "Object.entries(window.cloudbookCharts || {}).some(([name, chart]) => name.startsWith('" +
         name_prefix +
         "') && chart.data.datasets.some(d => d.data.length >= " + std::to_string(points) + "))";
}

std::string RowStatusIs(const std::string& id, const std::string& status) {
  return "(() => { const cell = document.querySelector('tr[data-agent-id=\"" + id +
         "\"] td.status'); return cell !== null && cell.textContent.trim() === '" + status +
         "'; })()";
}

class DashboardBrowser : public DashboardTest {
 protected:
  void SetUp() override {
    DashboardTest::SetUp();
    if (!SetUpFashionMlpProject(project_.path())) GTEST_SKIP() << "Fashion-MNIST is missing";
    WriteFile(project_.Join("distributed/config.json"),
              R"({"announce_interval_s": 0.5, "stats_interval_s": 0.5,
                  "heartbeat_interval_s": 0.5, "liveness_timeout_s": 3})");
  }

  void TearDown() override {
    if (browser_ != nullptr) {
      const std::string artifacts = std::string(CLOUDBOOK_BIN_DIR) + "/../test-artifacts";
      fs::create_directories(artifacts);
      const Status shot = browser_->Screenshot(artifacts + "/dashboard.png");
      if (!shot.ok()) ADD_FAILURE() << "screenshot: " << shot.ToString();
      browser_.reset();
    }
    DashboardTest::TearDown();
  }

  std::string Failure() {
    return "\nconsole:\n" + browser_->ConsoleMessages() + "\ndashboard log:\n" +
           Log("dashboard.log") + "\nrun log:\n" + Log("run.log");
  }

  std::unique_ptr<HeadlessBrowser> browser_;
};

TEST_F(DashboardBrowser, ShowsAgentsLiveStatsAndCurvesAndStopsAnAgent) {
  CB_REQUIRE_BROWSER();
  const CommandResult made = RunShell(
      Bin("cloudbook-maker") + " " + P() + " --subnets 3 --train-limit 9000 " + "--test-limit 1000",
      scratch_.Join("maker.err"));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string agent_0 = Create("--grant MEDIUM --agent-0");
  const std::string helper = Create("--grant LOW");
  const pid_t helper_pid = Launch(helper);
  Launch(agent_0);
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");

  Result<std::unique_ptr<HeadlessBrowser>> browser = HeadlessBrowser::Launch(scratch_.path());
  ASSERT_TRUE(browser.ok()) << browser.status().ToString();
  browser_ = std::move(*browser);
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/";
  ASSERT_TRUE(browser_->Navigate(url, seconds(30)).ok()) << Failure();

  // The agent table: both agents, running.
  Status shown = browser_->WaitUntil(
      RowStatusIs(agent_0, "running") + " && " + RowStatusIs(helper, "running"), seconds(90));
  ASSERT_TRUE(shown.ok()) << shown.ToString() << Failure();

  // A short real run while the page watches.
  Spawn({Bin("cloudbook-deployer"), "--project-folder", project_.path(), "--wait", "20",
         "--fast-start", "-s", "0.5"},
        "deployer.log");
  const pid_t run =
      Spawn({Bin("cloudbook-run"), "--project-folder", project_.path(), "--run-name", "watched",
             "--progress", "plain", "--timeout", "300", "--assignment-wait", "30"},
            "run.log");

  // Live stats: per machine and per agent charts get points.
  shown = browser_->WaitUntil(
      ChartHasPoints("machine-cpu", 2) + " && " + ChartHasPoints("agent-cpu:" + helper, 2),
      seconds(60));
  EXPECT_TRUE(shown.ok()) << shown.ToString() << Failure();

  ASSERT_EQ(WaitForExit(run, 300), 0) << Failure() << Log("deployer.log");
  // Training curves of the run: one point per epoch of each subnet.
  shown = browser_->WaitUntil(ChartHasPoints("train-loss", 2), seconds(30));
  EXPECT_TRUE(shown.ok()) << shown.ToString() << Failure();
  Result<Json> runs_listed =
      browser_->Evaluate("document.body.textContent.includes('watched')", seconds(10));
  ASSERT_TRUE(runs_listed.ok());
  EXPECT_EQ(*runs_listed, true) << "the run is listed";

  // Clicking "stop" stops the agent's process.
  const std::string stop = "button[data-action=\"stop\"][data-agent-id=\"" + helper + "\"]";
  ASSERT_TRUE(browser_->Click(stop, seconds(20)).ok()) << Failure();
  EXPECT_EQ(WaitForExit(helper_pid, 40), 0) << LaunchLog();
  shown = browser_->WaitUntil(RowStatusIs(helper, "stopped"), seconds(30));
  EXPECT_TRUE(shown.ok()) << shown.ToString() << Failure();
  EXPECT_NE(Log("dashboard.log").find("action stop " + helper), std::string::npos);
  // Agent 0 was not touched.
  Result<Json> agent_0_row = browser_->Evaluate(RowStatusIs(agent_0, "running"), seconds(10));
  ASSERT_TRUE(agent_0_row.ok());
  EXPECT_EQ(*agent_0_row, true);
}

}  // namespace
}  // namespace cloudbook::testing

namespace cloudbook::testing {
namespace {

TEST_F(DashboardTest, ThePagePicksAProjectOfTheHome) {
  CB_REQUIRE_BROWSER();
  const std::string home = scratch_.Join("home");
  fs::create_directories(home + "/alpha/distributed");
  fs::create_directories(home + "/beta/distributed/results");
  WriteFile(home + "/beta/distributed/results/beta-run.json",
            Json({{"run", "beta-run"}, {"composed", {{"metrics", {{"accuracy", 0.5}}}}}}).dump());
  dashboard_where_ = {"--home", home};
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");
  Result<std::unique_ptr<HeadlessBrowser>> browser = HeadlessBrowser::Launch(scratch_.path());
  ASSERT_TRUE(browser.ok()) << browser.status().ToString();
  HeadlessBrowser& page = **browser;
  ASSERT_TRUE(page.Navigate("http://127.0.0.1:" + std::to_string(port_) + "/", seconds(30)).ok());
  Status shown = page.WaitUntil(
      "!document.querySelector('#project-picker').hidden && "
      "document.querySelector('#project-name').textContent === 'alpha'",
      seconds(20));
  ASSERT_TRUE(shown.ok()) << shown.ToString() << page.ConsoleMessages();
  // Choosing beta opens its page: its name, its past run.
  ASSERT_TRUE(page.Evaluate("(() => { const s = document.querySelector('#project-select'); "
                            "s.value = 'beta'; s.dispatchEvent(new Event('change')); "
                            "return true; })()",
                            seconds(10))
                  .ok());
  shown = page.WaitUntil(
      "location.search.includes('project=beta') && "
      "document.querySelector('#project-name').textContent === 'beta' && "
      "document.body.textContent.includes('beta-run')",
      seconds(20));
  EXPECT_TRUE(shown.ok()) << shown.ToString() << page.ConsoleMessages();
}

}  // namespace
}  // namespace cloudbook::testing

namespace cloudbook::testing {
namespace {

// "Another machine": a process with its own host name (a UTS namespace), its own project
// folder and its own dashboard, sharing this project's shared folder, as a second computer
// would through NFS or a cloud folder.
std::vector<std::string> OnMachineB(std::vector<std::string> command) {
  std::vector<std::string> wrapped = {"/usr/bin/unshare", "--uts", "/bin/sh", "-c",
                                      "hostname machine-b && exec \"$0\" \"$@\""};
  wrapped.insert(wrapped.end(), command.begin(), command.end());
  return wrapped;
}

TEST_F(DashboardTest, TheOwnersPageStopsAnAgentOfAnotherMachineThroughItsDashboard) {
  CB_REQUIRE_BROWSER();
  if (geteuid() != 0) GTEST_SKIP() << "a UTS namespace (another host name) needs root";
  const std::string shared = project_.Join("distributed");
  const std::string machine_b = scratch_.Join("machine-b/fashion");
  fs::create_directories(machine_b);
  const CommandResult created = RunShell(Agent() + " create --project-folder " + machine_b +
                                             " --grant LOW " + "--distributed-folder " + shared,
                                         scratch_.Join("create-b.err"));
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string remote_agent = created.out;
  while (!remote_agent.empty() && remote_agent.back() == '\n') remote_agent.pop_back();
  const pid_t remote_pid = Spawn(
      OnMachineB({Agent(), "launch", "--project-folder", machine_b, "--agent-id", remote_agent}),
      "agent-b.log");
  const std::string port_file_b = scratch_.Join("dashboard-b.port");
  Spawn(OnMachineB({Dashboard(), "--project-folder", machine_b, "--distributed-folder", shared,
                    "--listen", "127.0.0.1:0", "--token-required", "--refresh", "0.3",
                    "--port-file", port_file_b}),
        "dashboard-b.log");
  ASSERT_TRUE(WaitFor([&] { return fs::exists(port_file_b); }, 20)) << Log("dashboard-b.log");
  Result<Json> token_b = ReadJsonFile(machine_b + "/dashboard/token.json");
  ASSERT_TRUE(token_b.ok()) << token_b.status().ToString();

  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");  // the owner's, on this project
  Result<std::unique_ptr<HeadlessBrowser>> browser = HeadlessBrowser::Launch(scratch_.path());
  ASSERT_TRUE(browser.ok()) << browser.status().ToString();
  HeadlessBrowser& page = **browser;
  ASSERT_TRUE(page.Navigate("http://127.0.0.1:" + std::to_string(port_) + "/", seconds(30)).ok());
  // The remote agent is listed under machine-b, running, with a stop button.
  const std::string stop = "button[data-action=\"stop\"][data-agent-id=\"" + remote_agent + "\"]";
  Status shown =
      page.WaitUntil(RowStatusIs(remote_agent, "running") + " && document.querySelector('" + stop +
                         "') !== null && "
                         "document.body.textContent.includes('machine-b')",
                     seconds(60));
  ASSERT_TRUE(shown.ok()) << shown.ToString() << page.ConsoleMessages() << Log("agent-b.log")
                          << Log("dashboard-b.log");
  // The user has given machine-b's token once (the page would ask with prompt()).
  // Kept per verified origin (the one machine-b's signed entry names).
  std::ifstream port_b_in(port_file_b);
  int port_b = 0;
  ASSERT_TRUE(static_cast<bool>(port_b_in >> port_b));
  ASSERT_TRUE(page.Evaluate("sessionStorage.setItem('cloudbook-token:http://127.0.0.1:" +
                                std::to_string(port_b) + "', '" +
                                (*token_b)["token"].get<std::string>() + "')",
                            seconds(10))
                  .ok());
  ASSERT_TRUE(page.Click(stop, seconds(20)).ok()) << page.ConsoleMessages();
  EXPECT_EQ(WaitForExit(remote_pid, 40), 0) << page.ConsoleMessages() << Log("dashboard-b.log");
  EXPECT_NE(Log("dashboard-b.log").find("action stop " + remote_agent), std::string::npos)
      << Log("dashboard-b.log");
  // The owner's dashboard did not do it itself (the agent is not on its machine).
  EXPECT_EQ(Log("dashboard.log").find("action stop"), std::string::npos);
  shown = page.WaitUntil(RowStatusIs(remote_agent, "stopped"), seconds(30));
  EXPECT_TRUE(shown.ok()) << shown.ToString();
}

}  // namespace
}  // namespace cloudbook::testing
