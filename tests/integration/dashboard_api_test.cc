// cloudbook-dashboard's JSON API through a real HTTP client, against a real dashboard
// process, real agents (created, launched, regranted, stopped and removed through the API)
// and real files in the project's shared folder.
#include <gtest/gtest.h>

#include "dashboard/dashboard_registry.h"
#include "dashboard/project_watcher.h"
#include "shared/clock.h"
#include "shared/exit_codes.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/announcement.h"
#include "tests/integration/dashboard_fixture.h"

namespace cloudbook::testing {
namespace {

TEST_F(DashboardTest, ServesThePageAndAnOverview) {
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");
  httplib::Result page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<html"), std::string::npos);
  httplib::Result script = client_->Get("/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  httplib::Result chart = client_->Get("/vendor/chart.min.js");
  ASSERT_TRUE(chart);
  EXPECT_EQ(chart->status, 200) << "is libjs-chart.js installed? (scripts/install-deps.sh)";
  EXPECT_NE(chart->body.find("Chart.js"), std::string::npos);

  const Reply overview = Call("GET", "/api/v1/overview");
  ASSERT_EQ(overview.status, 200) << overview.body;
  EXPECT_EQ(overview.body["project_folder"], project_.path());
  EXPECT_EQ(overview.body["token_required"], false);
  EXPECT_TRUE(overview.body["assignment"].is_null());
  EXPECT_EQ(Call("GET", "/api/v1/nothing").status, 404);
}

TEST_F(DashboardTest, CreatesLaunchesRegrantsStopsAndRemovesAnAgent) {
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");
  const Reply created = Call("POST", "/api/v1/agents", {{"grant", "LOW"}, {"agent_0", false}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.body["id"];
  launched_.push_back(id);
  ASSERT_TRUE(WaitForStatus(id, "stopped", 10)) << AgentEntry(id);
  EXPECT_EQ(AgentEntry(id)["actions"], Json({"launch", "remove", "edit"}));

  const Reply launched = Call("POST", "/api/v1/agents/" + id + "/launch", Json::object());
  ASSERT_EQ(launched.status, 202) << launched.body << Log("dashboard.log");
  EXPECT_GT(launched.body["pid"].get<int>(), 0);
  ASSERT_TRUE(WaitForStatus(id, "running", 20)) << AgentEntry(id);
  EXPECT_EQ(Call("POST", "/api/v1/agents/" + id + "/launch", Json::object()).status, 409);

  // Its stats arrive (every 0.5 s) and the history grows.
  ASSERT_TRUE(WaitFor(
      [&] {
        const Reply stats = Call("GET", "/api/v1/stats?since=0");
        return stats.status == 200 && stats.body["agents"].contains(id) &&
               stats.body["agents"][id].size() >= 2 && !stats.body["machines"].empty();
      },
      20))
      << Call("GET", "/api/v1/stats?since=0").body;
  const Json entry = AgentEntry(id);
  EXPECT_TRUE(entry["stats"].is_object()) << entry;
  EXPECT_TRUE(entry["stats"]["rss_bytes"].get<double>() > 0) << entry;
  const int64_t now = UnixTimeMs();
  const Reply later = Call("GET", "/api/v1/stats?since=" + std::to_string(now + 60000));
  EXPECT_TRUE(later.body["agents"][id].empty());

  const Reply regranted = Call("PUT", "/api/v1/agents/" + id + "/grant", {{"grant", "MEDIUM"}});
  ASSERT_EQ(regranted.status, 200) << regranted.body;
  Result<AgentConfig> config = ReadAgentConfig(project_.path(), id);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->grant, Grant::kMedium);
  ASSERT_TRUE(WaitFor([&] { return AgentEntry(id)["grant"] == "MEDIUM"; }, 20)) << AgentEntry(id);

  EXPECT_EQ(Call("DELETE", "/api/v1/agents/" + id).status, 409);  // still running
  const Reply stopped = Call("POST", "/api/v1/agents/" + id + "/stop", Json::object());
  ASSERT_EQ(stopped.status, 200) << stopped.body;
  ASSERT_TRUE(WaitForStatus(id, "stopped", 10)) << AgentEntry(id);
  EXPECT_EQ(Call("POST", "/api/v1/agents/" + id + "/stop", Json::object()).status, 409);

  ASSERT_EQ(Call("DELETE", "/api/v1/agents/" + id).status, 200);
  EXPECT_FALSE(fs::exists(project_.Join("agents/" + id + ".json")));
  ASSERT_TRUE(WaitFor([&] { return AgentEntry(id).is_null(); }, 10));
  const std::string log = Log("dashboard.log");
  EXPECT_NE(log.find("action launch " + id), std::string::npos) << log;
  EXPECT_NE(log.find("action stop " + id), std::string::npos) << log;
}

TEST_F(DashboardTest, RefusesBadRequestsWithClearErrors) {
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");
  const Reply form = Call("POST", "/api/v1/agents", {{"grant", "LOW"}}, "text/plain");
  EXPECT_EQ(form.status, 415);
  EXPECT_NE(form.body["error"].get<std::string>().find("JSON"), std::string::npos);
  EXPECT_EQ(Call("POST", "/api/v1/agents", {{"grant", "HUGE"}}).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/agents", {{"grant", 3}}).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/agents", {{"grant", "LOW"}, {"agent_0", "yes"}}).status, 400);
  httplib::Result garbage = client_->Post("/api/v1/agents", "{\"grant\": ", "application/json");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/agents/agent-nobody/stop", Json::object()).status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/agents/bad%24id/stop", Json::object()).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/agents/..%2F..%2Fetc/stop", Json::object()).status, 404);
  EXPECT_EQ(Call("PUT", "/api/v1/agents/agent-nobody/grant", {{"grant", "LOW"}}).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/runs/no-such-run").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/runs/bad%FF%FEname").status, 400);  // invalid UTF-8 in a name
  EXPECT_EQ(Call("GET", "/nothing%FF.js").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/stats?since=yesterday").status, 400);

  ASSERT_EQ(Call("POST", "/api/v1/agents", {{"grant", "HIGH"}, {"agent_0", true}}).status, 201);
  const Reply second = Call("POST", "/api/v1/agents", {{"grant", "HIGH"}, {"agent_0", true}});
  EXPECT_EQ(second.status, 409) << second.body;

  httplib::Headers rebinding = {{"Host", "attacker.example"}};
  httplib::Result rebound = client_->Get("/api/v1/agents", rebinding);
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 403);
  // Another web site's page in the user's browser gets no CORS preflight from a loopback
  // dashboard: its JSON actions never leave the browser.
  httplib::Result preflight = client_->Options(
      "/api/v1/agents",
      {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 403);
  EXPECT_FALSE(preflight->has_header("Access-Control-Allow-Origin"));
  // The dashboard is still serving after all of that.
  EXPECT_EQ(Call("GET", "/api/v1/agents").status, 200);
}

TEST_F(DashboardTest, OffLoopbackEveryCallNeedsTheToken) {
  ASSERT_TRUE(StartDashboard("0.0.0.0:0")) << Log("dashboard.log");
  Result<Json> stored = ReadJsonFile(project_.Join("dashboard/token.json"));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  const std::string token = (*stored)["token"];
  EXPECT_NE(Log("dashboard.log").find(token), std::string::npos);  // printed at start
  const Reply refused = Call("GET", "/api/v1/agents");
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body["error"].get<std::string>().find("token"), std::string::npos);
  token_ = (token[0] == '0' ? "1" : "0") + token.substr(1);  // a wrong token, one digit off
  EXPECT_EQ(Call("GET", "/api/v1/agents").status, 401);
  token_ = token;
  EXPECT_EQ(Call("GET", "/api/v1/agents").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/overview").body["token_required"], true);
  // The owner's page, served by another machine's dashboard, may call this one: the CORS
  // preflight is granted (the token protects it), and answers carry the CORS header.
  httplib::Headers preflight = {{"Origin", "http://10.0.0.9:8750"},
                                {"Access-Control-Request-Method", "POST"},
                                {"Access-Control-Request-Headers", "authorization,content-type"}};
  httplib::Result options = client_->Options("/api/v1/agents", preflight);
  ASSERT_TRUE(options);
  EXPECT_EQ(options->status, 204);
  EXPECT_EQ(options->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_NE(options->get_header_value("Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
  const Reply created = Call("POST", "/api/v1/agents", {{"grant", "LOW"}});
  ASSERT_EQ(created.status, 201) << created.body;
  // This machine's dashboard is announced for the owner's page, signed with the key of this
  // machine's agent once that agent has announced itself (as `launch` would).
  const std::string id = created.body["id"];
  Result<AgentConfig> config = ReadAgentConfig(project_.path(), id);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  Announcement announcement;
  announcement.id = id;
  announcement.grant = Grant::kLow;
  announcement.host = HostName();
  announcement.endpoint = "tcp://127.0.0.1:5550";
  announcement.curve_public_key = config->curve.public_key;
  announcement.signing_public_key = config->signing.public_key;
  announcement.sequence = 1;
  announcement.time_ms = UnixTimeMs();
  announcement.pid = 1;
  ASSERT_TRUE(
      WriteAnnouncement(project_.Join("distributed"), announcement, config->signing.secret_key)
          .ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        const Reply dashboards = Call("GET", "/api/v1/dashboards");
        return dashboards.status == 200 && dashboards.body.size() == 1 &&
               dashboards.body[0]["self"] == true && dashboards.body[0]["agent_id"] == id;
      },
      15))
      << Call("GET", "/api/v1/dashboards").body;
  ::kill(dashboard_pid_, SIGTERM);
  EXPECT_EQ(WaitForExit(dashboard_pid_, 15), 0);
  EXPECT_TRUE(fs::is_empty(project_.Join("distributed/dashboards")));  // withdrawn
}

// Another machine's dashboard is offered to the page (which sends that machine's token to its
// URL) only when its entry is signed by an agent of that machine whose own signed announcement
// names the same key and host. A forged or modified entry is refused, with the reason logged
// once (issue 15, item 7).
TEST_F(DashboardTest, OffersAnotherMachinesDashboardOnlyWhenItsAgentSignedIt) {
  const std::string shared = project_.Join("distributed");
  const ProjectLayout layout(project_.path(), shared);
  const std::string desk = scratch_.Join("desk/fashion");
  fs::create_directories(desk);
  // The other machine's agent and its signed announcement (as `launch` would write it there).
  const CommandResult created =
      RunShell(Agent() + " create -p " + desk + " --grant LOW --distributed-folder " + shared,
               scratch_.Join("create.err"));
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id = created.out.substr(0, created.out.find('\n'));
  Result<AgentConfig> config = ReadAgentConfig(desk, id);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  Announcement announcement;
  announcement.id = id;
  announcement.grant = Grant::kLow;
  announcement.host = "desk";
  announcement.endpoint = "tcp://127.0.0.2:5550";
  announcement.curve_public_key = config->curve.public_key;
  announcement.signing_public_key = config->signing.public_key;
  announcement.sequence = 1;
  announcement.time_ms = UnixTimeMs() + 3'600'000;  // stays fresh for the test
  announcement.pid = 1;
  announcement.status = AgentRunState::kRunning;
  ASSERT_TRUE(WriteAnnouncement(shared, announcement, config->signing.secret_key).ok());
  // Its dashboard's entry, signed with that agent's key.
  DashboardEntry entry;
  entry.host = "desk";
  entry.project = "fashion";
  entry.url = "http://127.0.0.2:8750";
  entry.token_required = true;
  entry.time_ms = UnixTimeMs() + 3'600'000;
  entry.agent_id = id;
  entry.signing_public_key = config->signing.public_key;
  ASSERT_TRUE(AnnounceDashboard(layout, entry, config->signing.secret_key).ok());
  // Forgeries: an unsigned entry of the old format; one signed by the right agent for another
  // host; one signed by a key no announcement vouches for.
  WriteFile(layout.dashboards() + "/laptop.json", Json({{"format_version", 1},
                                                        {"host", "laptop"},
                                                        {"url", "http://127.0.0.3:8750"},
                                                        {"token_required", true},
                                                        {"time", entry.time_ms}})
                                                      .dump());
  DashboardEntry other_host = entry;
  other_host.host = "server";
  ASSERT_TRUE(AnnounceDashboard(layout, other_host, config->signing.secret_key).ok());
  Result<SigningKeyPair> stranger = GenerateSigningKeyPair();
  ASSERT_TRUE(stranger.ok());
  DashboardEntry unvouched = entry;
  unvouched.host = "attic";
  unvouched.signing_public_key = stranger->public_key;
  ASSERT_TRUE(AnnounceDashboard(layout, unvouched, stranger->secret_key).ok());

  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");
  Reply offered = Call("GET", "/api/v1/dashboards");
  ASSERT_EQ(offered.status, 200);
  ASSERT_EQ(offered.body.size(), 1u) << offered.body;
  EXPECT_EQ(offered.body[0]["host"], "desk");
  EXPECT_EQ(offered.body[0]["origin"], "http://127.0.0.2:8750");
  EXPECT_EQ(offered.body[0]["verified"], true);
  EXPECT_EQ(offered.body[0]["agent_id"], id);

  // Someone changes the URL of desk's signed entry: it is no longer offered.
  const std::string desk_file = layout.dashboards() + "/desk.json";
  Result<Json> signed_entry = ReadJsonFile(desk_file);
  ASSERT_TRUE(signed_entry.ok());
  (*signed_entry)["url"] = "http://127.0.0.9:8750";
  WriteFile(desk_file, signed_entry->dump());
  ASSERT_TRUE(WaitFor([&] { return Call("GET", "/api/v1/dashboards").body.empty(); }, 15))
      << Call("GET", "/api/v1/dashboards").body;
  const std::string log = Log("dashboard.log");
  for (const std::string& reason :
       {std::string("desk.json: bad signature"), std::string("laptop.json: format_version"),
        std::string("server.json: claims host 'server'"),
        std::string("attic.json: signed with a key that is not the one")}) {
    EXPECT_NE(log.find(reason), std::string::npos) << reason << "\n" << log;
  }
}

// The dashboard's token no longer sits among the agent configs: an old P/agents/dashboard.json
// is moved to P/dashboard/token.json at start, and `cloudbook-agent list` stops warning about
// it (issue 15, item 10).
TEST_F(DashboardTest, MovesAnOldTokenFileOutOfTheAgentConfigs) {
  fs::create_directories(project_.Join("agents"));
  const std::string old_token(64, 'a');
  WriteFile(project_.Join("agents/dashboard.json"), Json({{"token", old_token}}).dump());
  const std::string list = Agent() + " list -p " + project_.path();
  const CommandResult before = RunShell(list, scratch_.Join("list-before.err"));
  EXPECT_NE(before.err.find("dashboard.json"), std::string::npos) << before.err;
  ASSERT_TRUE(StartDashboard("0.0.0.0:0")) << Log("dashboard.log");
  EXPECT_FALSE(fs::exists(project_.Join("agents/dashboard.json")));
  Result<Json> moved = ReadJsonFile(project_.Join("dashboard/token.json"));
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ((*moved)["token"], old_token);  // the same token: open pages keep working
  token_ = old_token;
  EXPECT_EQ(Call("GET", "/api/v1/agents").status, 200);
  const CommandResult after = RunShell(list, scratch_.Join("list-after.err"));
  EXPECT_EQ(after.exit_code, 0);
  EXPECT_EQ(after.err.find("warn"), std::string::npos) << after.err;
  EXPECT_EQ(after.err.find("dashboard"), std::string::npos) << after.err;
}

TEST_F(DashboardTest, ListsRunsFromProgressAndResultsFiles) {
  const int64_t now = UnixTimeMs();
  WriteFile(
      project_.Join("distributed/runs/run-live.json"),
      Json({{"run", "run-live"},
            {"state", "running"},
            {"started", now},
            {"updated", now + 3'600'000},  // stays fresh for the test
            {"dus", {{{"du", 0}, {"agent", "agent-0"}, {"epoch", 2}, {"epochs", 5}}}},
            {"subnets",
             {{{"subnet", 0},
               {"du", 0},
               {"history",
                {{{"epoch", 1}, {"train_loss", 0.9}}, {{"epoch", 2}, {"train_loss", 0.7}}}}}}}})
          .dump());
  WriteFile(project_.Join("distributed/results/run-20261201T101500Z.json"),
            Json({{"run", "run-20261201T101500Z"},
                  {"started", "20261201T101500Z"},
                  {"composed", {{"metrics", {{"accuracy", 0.8}}}}},
                  {"baseline", nullptr}})
                .dump());
  WriteFile(project_.Join("distributed/results/garbage.json"), "\x01\x02 not json");
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");
  const Reply runs = Call("GET", "/api/v1/runs");
  ASSERT_EQ(runs.status, 200);
  ASSERT_EQ(runs.body.size(), 2u) << runs.body;
  EXPECT_EQ(runs.body[0]["run"], "run-live");
  EXPECT_EQ(runs.body[0]["state"], "running");
  EXPECT_EQ(runs.body[1]["composed"]["accuracy"], 0.8);
  const Reply live = Call("GET", "/api/v1/runs/run-live");
  ASSERT_EQ(live.status, 200);
  EXPECT_EQ(live.body["subnets"][0]["history"].size(), 2u);
  EXPECT_NE(Log("dashboard.log").find("garbage.json"), std::string::npos);
}

TEST_F(DashboardTest, ServesEveryProjectOfAHome) {
  // A cloudbook home with two projects and a folder that is not one.
  const std::string home = scratch_.Join("home");
  fs::create_directories(home + "/fashion/distributed/results");
  fs::create_directories(home + "/digits/original");
  fs::create_directories(home + "/holiday-photos");
  WriteFile(home + "/fashion/distributed/results/run-a.json",
            Json({{"run", "run-a"}, {"composed", {{"metrics", {{"accuracy", 0.5}}}}}}).dump());
  dashboard_where_ = {"--home", home};
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");
  const Reply projects = Call("GET", "/api/v1/projects");
  ASSERT_EQ(projects.status, 200);
  ASSERT_EQ(projects.body.size(), 2u) << projects.body;
  EXPECT_EQ(projects.body[0]["name"], "digits");  // the default: the first by name
  EXPECT_EQ(projects.body[0]["default"], true);
  EXPECT_EQ(projects.body[1]["name"], "fashion");

  EXPECT_EQ(Call("GET", "/api/v1/overview").body["project"], "digits");
  const Reply fashion = Call("GET", "/api/v1/runs?project=fashion");
  ASSERT_EQ(fashion.status, 200) << fashion.body;
  ASSERT_EQ(fashion.body.size(), 1u);
  EXPECT_EQ(fashion.body[0]["run"], "run-a");
  EXPECT_TRUE(Call("GET", "/api/v1/runs").body.empty());  // digits has none
  EXPECT_EQ(Call("GET", "/api/v1/agents?project=holiday-photos").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/agents?project=..").status, 400);
  // A project made after the start is served too.
  fs::create_directories(home + "/late/distributed");
  EXPECT_EQ(Call("GET", "/api/v1/overview?project=late").status, 200);
  const Reply created =
      Call("POST", "/api/v1/agents?project=fashion", {{"grant", "LOW"}, {"agent_0", true}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_TRUE(fs::exists(home + "/fashion/agents/agent-0.json"));
  EXPECT_FALSE(fs::exists(home + "/digits/agents/agent-0.json"));
}

TEST_F(DashboardTest, AMachineWithoutAgentsListsTheProjectsAgentsFromItsSharedFolder) {
  // The owner's copy of the project keeps its shared folder elsewhere (project.json) and has
  // no agent of its own; another copy's agent announces itself in that folder.
  const std::string shared = scratch_.Join("shared");
  const std::string owner = scratch_.Join("owner/fashion");
  const std::string other = scratch_.Join("other/fashion");
  fs::create_directories(shared);
  fs::create_directories(other);
  WriteFile(shared + "/config.json", R"({"announce_interval_s": 0.5, "stats_interval_s": 0.5})");
  WriteFile(owner + "/project.json", Json({{"distributed_folder", shared}}).dump());
  const CommandResult created =
      RunShell(Agent() + " create -p " + other + " --grant LOW --distributed-folder " + shared,
               scratch_.Join("create.err"));
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id = created.out.substr(0, created.out.find('\n'));
  Spawn({Agent(), "launch", "--project-folder", other, "--agent-id", id}, "other-agent.log");
  WriteFile(shared + "/agents/agent-forged.json", "{\"id\": \"agent-forged\"}");
  dashboard_where_ = {"--project-folder", owner};
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");
  EXPECT_EQ(Call("GET", "/api/v1/overview").body["distributed_folder"], shared);
  ASSERT_TRUE(WaitForStatus(id, "running", 30))
      << Call("GET", "/api/v1/agents").body << Log("other-agent.log");
  const Json agent = AgentEntry(id);
  EXPECT_EQ(agent["local"], false);
  EXPECT_EQ(agent["actions"], Json::array());  // another machine's: its own dashboard acts
  EXPECT_TRUE(AgentEntry("agent-forged").is_null());
  // The forged file is reported once, not at every refresh.
  const std::string log = Log("dashboard.log");
  const std::string line = "ignoring announcement " + shared + "/agents/agent-forged.json";
  const size_t first = log.find(line);
  EXPECT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(line, first + 1), std::string::npos) << log;
}

TEST_F(DashboardTest, BadCommandLinesAndMissingProjectsExitWithTheirCodes) {
  EXPECT_EQ(RunShell(Dashboard() + " --help", scratch_.Join("e")).exit_code, 0);
  EXPECT_EQ(RunShell(Dashboard() + " --listen 1.2.3.4:8750", scratch_.Join("e")).exit_code,
            kExitUsage);
  EXPECT_EQ(
      RunShell(Dashboard() + " -p " + project_.path() + " --listen nonsense", scratch_.Join("e"))
          .exit_code,
      kExitUsage);
  EXPECT_EQ(RunShell(Dashboard() + " -p " + project_.Join("missing"), scratch_.Join("e")).exit_code,
            kExitInvalidInput);
  // A port that is taken: an I/O error with a message naming it.
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");
  const CommandResult taken = RunShell(
      Dashboard() + " -p " + project_.path() + " --listen 127.0.0.1:" + std::to_string(port_),
      scratch_.Join("taken.err"));
  EXPECT_EQ(taken.exit_code, kExitIo);
  EXPECT_NE(taken.err.find(std::to_string(port_)), std::string::npos) << taken.err;
}

}  // namespace
}  // namespace cloudbook::testing
