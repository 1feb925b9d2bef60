// The dashboard's pieces that need no server: access rules, stats history, the run catalog,
// the dashboards registry and agent 0's run progress file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "agent/core/run_progress_recorder.h"
#include "dashboard/access_policy.h"
#include "dashboard/dashboard_registry.h"
#include "dashboard/project_watcher.h"
#include "dashboard/run_catalog.h"
#include "dashboard/stats_history.h"
#include "shared/clock.h"
#include "shared/formats/agent_keys.h"
#include "shared/formats/agent_stats.h"
#include "shared/http_access.h"
#include "shared/json_io.h"
#include "shared/tunables.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::ScratchDir;
using testing::WriteFile;

AccessRequest Request(const std::string& method, const std::string& path,
                      const std::string& authorization = "",
                      const std::string& content_type = "application/json") {
  return {method, path, "127.0.0.1:8750", authorization, content_type};
}

TEST(DashboardAccess, LoopbackNeedsNoTokenButActionsMustBeJson) {
  AccessPolicy policy(true, "", 8750);
  EXPECT_TRUE(policy.Check(Request("GET", "/api/v1/agents", "", "")).allowed());
  EXPECT_TRUE(policy.Check(Request("POST", "/api/v1/agents")).allowed());
  const AccessDecision form = policy.Check(Request("POST", "/api/v1/agents", "", "text/plain"));
  EXPECT_EQ(form.http_status, 415);
  EXPECT_FALSE(policy.allow_cross_origin());
}

TEST(DashboardAccess, LoopbackRefusesAForeignHostHeader) {
  AccessPolicy policy(true, "", 8750);
  AccessRequest rebound = Request("GET", "/api/v1/agents");
  rebound.host_header = "attacker.example:8750";
  EXPECT_EQ(policy.Check(rebound).http_status, 403);
  rebound.host_header = "localhost:8750";
  EXPECT_TRUE(policy.Check(rebound).allowed());
  rebound.host_header = "[::1]:8750";
  EXPECT_TRUE(policy.Check(rebound).allowed());
}

TEST(DashboardAccess, ElsewhereEveryApiCallNeedsTheToken) {
  const std::string token(64, 'a');
  AccessPolicy policy(false, token, 8750);
  EXPECT_EQ(policy.Check(Request("GET", "/api/v1/agents")).http_status, 401);
  EXPECT_EQ(
      policy.Check(Request("GET", "/api/v1/agents", "Bearer " + std::string(64, 'b'))).http_status,
      401);
  EXPECT_EQ(policy.Check(Request("GET", "/api/v1/agents", token)).http_status, 401);
  EXPECT_TRUE(policy.Check(Request("GET", "/api/v1/agents", "Bearer " + token)).allowed());
  EXPECT_TRUE(policy.Check(Request("GET", "/", "", "")).allowed());  // the page itself
  EXPECT_TRUE(policy.allow_cross_origin());
}

TEST(DashboardAccess, TheTokenIsMadeOnceAndKeptPrivate) {
  ScratchDir project;
  Result<std::string> first = LoadOrCreateAccessToken(DashboardTokenFile(project.path(), false));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 64u);
  Result<std::string> second = LoadOrCreateAccessToken(DashboardTokenFile(project.path(), false));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  struct stat info {};
  ASSERT_EQ(stat(project.Join("dashboard/token.json").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  WriteFile(project.Join("dashboard/token.json"), "{\"token\": 5}");
  EXPECT_FALSE(LoadOrCreateAccessToken(DashboardTokenFile(project.path(), false)).ok());
}

AgentStats Stats(const std::string& id, int64_t time, double cpu, double rx) {
  const Json json = {
      {"format_version", 1},
      {"id", id},
      {"time", time},
      {"interval_s", 2.0},
      {"process", {{"cpu_percent", cpu}, {"rss_bytes", 1000}}},
      {"machine",
       {{"cpu_percent", 50.0}, {"memory_total_bytes", 8000}, {"memory_available_bytes", 6000}}},
      {"network", {{"rx_bytes", static_cast<int64_t>(rx)}, {"tx_bytes", 0}}},
      {"dus", Json::array()}};
  Result<AgentStats> stats = ParseAgentStats(json.dump(), "stats/" + id + ".json", id);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  return stats.ok() ? *stats : AgentStats{};
}

TEST(DashboardStatsHistory, KeepsOnePointPerNewSampleWithRates) {
  StatsHistory history;
  history.Add("h1", Stats("a", 1000, 10, 0));
  history.Add("h1", Stats("a", 1000, 10, 0));  // the same file read twice
  history.Add("h1", Stats("a", 3000, 20, 4000));
  const Json all = history.Since(0);
  ASSERT_EQ(all["agents"]["a"].size(), 2u);
  EXPECT_TRUE(all["agents"]["a"][0]["rx_bytes_per_s"].is_null());
  EXPECT_DOUBLE_EQ(all["agents"]["a"][1]["rx_bytes_per_s"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(all["machines"]["h1"][1]["memory_used_bytes"].get<double>(), 2000.0);
  EXPECT_EQ(history.Since(1000)["agents"]["a"].size(), 1u);
}

TEST(DashboardStatsHistory, TwoAgentsOfOneMachineMakeOneMachineSeries) {
  StatsHistory history;
  history.Add("h1", Stats("a", 1000, 10, 0));
  history.Add("h1", Stats("b", 1100, 10, 0));  // same interval: no second machine point
  history.Add("h1", Stats("b", 3100, 10, 0));
  EXPECT_EQ(history.Since(0)["machines"]["h1"].size(), 2u);
  EXPECT_EQ(history.Since(0)["agents"].size(), 2u);
}

// The history takes typed stats (shared/formats/agent_stats.h): documents of the wrong shape
// are refused when read, and missing figures stay empty.
TEST(DashboardStatsHistory, IgnoresDocumentsOfTheWrongShape) {
  EXPECT_FALSE(ParseAgentStats("[]", "a.json", "a").ok());
  EXPECT_FALSE(ParseAgentStats(R"({"id": 5, "time": 1})", "a.json", "a").ok());
  EXPECT_FALSE(ParseAgentStats(R"({"id": "a", "time": "soon"})", "a.json", "a").ok());
  Result<AgentStats> busy =
      ParseAgentStats(R"({"id": "a", "time": 10, "process": "busy"})", "a.json", "a");
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.status().message().find("'process'"), std::string::npos);
  StatsHistory history;
  history.Add("h1", *ParseAgentStats(R"({"id": "a", "time": 10, "interval_s": "x"})", "a", "a"));
  const Json all = history.Since(0);
  ASSERT_EQ(all["agents"].size(), 1u);
  EXPECT_TRUE(all["agents"]["a"][0]["cpu_percent"].is_null());
}

TEST(DashboardStatsHistory, DropsPointsPastTheWindow) {
  StatsHistory history(10'000, 3);
  for (int i = 0; i < 10; ++i) history.Add("h", Stats("a", 1000 + i * 2000, i, 0));
  EXPECT_EQ(history.Since(0)["agents"]["a"].size(), 3u);
}

TEST(RunProgressRecorderTest, FoldsEventsIntoPerSubnetHistoryAndFinishes) {
  ScratchDir distributed;
  const std::string runs = distributed.Join("runs");
  {
    RunProgressRecorder recorder(SharedFolderLayout(distributed.path()),
                                 std::chrono::milliseconds(0));
    recorder.OnEvent({{"event", std::string("start")},
                      {"run", std::string("run-1")},
                      {"dus", int64_t{2}},
                      {"project", std::string("p")}});
    for (int64_t epoch = 1; epoch <= 3; ++epoch) {
      recorder.OnEvent({{"event", std::string("du")},
                        {"run", std::string("run-1")},
                        {"du", int64_t{1}},
                        {"agent", std::string("agent-x")},
                        {"state", std::string("training")},
                        {"subnet", int64_t{4}},
                        {"epoch", epoch},
                        {"epochs", int64_t{3}},
                        {"loss", 1.0 / static_cast<double>(epoch)},
                        {"accuracy", 0.5}});
    }
    recorder.OnEvent({{"event", std::string("note")},
                      {"run", std::string("run-1")},
                      {"message", std::string("hello")}});
    const Json document = recorder.Document();
    ASSERT_EQ(document["subnets"].size(), 1u);
    EXPECT_EQ(document["subnets"][0]["history"].size(), 3u);
    EXPECT_DOUBLE_EQ(document["subnets"][0]["history"][2]["train_loss"].get<double>(), 1.0 / 3);
    EXPECT_EQ(document["dus"][0]["epoch"], 3);
    recorder.Finish("done", "", {{"accuracy", 0.9}}, nullptr);
  }
  Result<Json> file = ReadJsonFile(runs + "/run-1.json");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)["state"], "done");
  EXPECT_EQ((*file)["composed"]["accuracy"], 0.9);
  EXPECT_EQ((*file)["notes"][0], "hello");
}

TEST(RunProgressRecorderTest, ARecorderLeftWithoutFinishSaysFailed) {
  ScratchDir distributed;
  {
    RunProgressRecorder recorder(SharedFolderLayout(distributed.path()));
    recorder.OnEvent({{"event", std::string("start")}, {"run", std::string("run-2")}});
  }
  Result<Json> file = ReadJsonFile(distributed.Join("runs/run-2.json"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)["state"], "failed");
}

TEST(RunCatalogTest, ListsLiveAndFinishedRunsAndSurvivesBadFiles) {
  ScratchDir project;
  ProjectLayout layout(project.path());
  const int64_t now = UnixTimeMs();
  WriteFile(layout.runs() + "/run-live.json", Json({{"run", "run-live"},
                                                    {"state", "running"},
                                                    {"started", now - 1000},
                                                    {"updated", now},
                                                    {"dus", Json::array()},
                                                    {"subnets", Json::array()}})
                                                  .dump());
  WriteFile(
      layout.runs() + "/run-old.json",
      Json({{"state", "running"}, {"started", now - 100000}, {"updated", now - 90000}}).dump());
  WriteFile(
      layout.results() + "/run-20261204T101500Z.json",
      Json({{"run", "run-20261204T101500Z"},
            {"started", "20261204T101500Z"},
            {"composed", {{"metrics", {{"accuracy", 0.8}}}}},
            {"baseline", {{"metrics", {{"accuracy", 0.85}}}}},
            {"dus", {{{"du", 0}, {"ran_on", "agent-0"}}}},
            {"subnets", {{{"index", 0}, {"du", 0}, {"epochs", 2}, {"history", Json::array()}}}}})
          .dump());
  WriteFile(layout.results() + "/broken.json", "{\"run\": ");
  WriteFile(layout.results() + "/typed.json", "{\"state\": 7, \"started\": [1], \"dus\": 3}");
  WriteFile(layout.results() + "/not a run.json", "{}");
  RunCatalog catalog(layout);
  // First sight counts as written now: how old "updated" is by this machine's wall clock
  // says nothing (agent 0's clock may be off), only a file that stays unchanged does.
  const int64_t steady = 1'000'000;
  ASSERT_EQ(catalog.List(steady).size(), 4u);
  ASSERT_EQ(catalog.List(steady)[1]["state"], "running");
  WriteFile(layout.runs() + "/run-live.json", Json({{"run", "run-live"},
                                                    {"state", "running"},
                                                    {"started", now - 1000},
                                                    {"updated", now + 2000},
                                                    {"elapsed_seconds", 3},
                                                    {"dus", Json::array()},
                                                    {"subnets", Json::array()}})
                                                  .dump());
  const Json runs = catalog.List(steady + GetTunables().run_stalled_after_ms.count() + 1);
  ASSERT_EQ(runs.size(), 4u) << runs.dump(1);  // broken and badly named files left out
  EXPECT_EQ(runs[0]["run"], "run-live");
  EXPECT_EQ(runs[0]["state"], "running");
  EXPECT_EQ(runs[1]["run"], "run-old");
  EXPECT_EQ(runs[1]["state"], "stalled");
  EXPECT_EQ(runs[2]["state"], "done");
  EXPECT_EQ(runs[2]["composed"]["accuracy"], 0.8);
  EXPECT_EQ(runs[2]["baseline"]["accuracy"], 0.85);

  Result<Json> detail = catalog.Detail("run-20261204T101500Z", now);
  ASSERT_TRUE(detail.ok());
  EXPECT_EQ((*detail)["dus"][0]["agent"], "agent-0");
  EXPECT_EQ((*detail)["subnets"][0]["epochs"], 2);
  EXPECT_EQ(catalog.Detail("nope", now).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(catalog.Detail("../etc", now).status().code(), Status::Code::kInvalidArgument);
}

TEST(DashboardRegistryTest, ListsFreshEntriesVouchedForByTheirMachinesAgent) {
  ScratchDir project;
  ProjectLayout layout(project.path());
  const int64_t now = UnixTimeMs();
  const SigningKeyPair keys = *GenerateSigningKeyPair();
  Announcement agent;
  agent.id = "agent-desk-0001";
  agent.host = "desk";
  agent.signing_public_key = keys.public_key;
  const std::vector<Announcement> agents = {agent};
  DashboardEntry desk;
  desk.host = "desk";
  desk.project = "fashion";
  desk.url = "http://10.0.0.3:8750/";
  desk.token_required = true;
  desk.time_ms = now;
  desk.agent_id = agent.id;
  desk.signing_public_key = keys.public_key;
  ASSERT_TRUE(AnnounceDashboard(layout, desk, keys.secret_key).ok());
  DashboardEntry old = desk;
  old.host = "old";
  old.time_ms = now - 60000;
  ASSERT_TRUE(AnnounceDashboard(layout, old, keys.secret_key).ok());
  WriteFile(layout.dashboards() + "/evil.json",
            Json({{"host", "evil"}, {"url", "javascript:alert(1)"}, {"time", now}}).dump());
  std::vector<IgnoredDashboard> ignored;
  const Json list = ListDashboards(layout, "desk", now, agents, &ignored);
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["origin"], "http://10.0.0.3:8750");
  EXPECT_EQ(list[0]["self"], true);
  EXPECT_EQ(list[0]["project"], "fashion");
  EXPECT_EQ(list[0]["verified"], true);
  // "old" is stale (left out silently; its agent's host is not "old" either, so it is also
  // refused); "evil" is unsigned.
  EXPECT_EQ(ignored.size(), 2u);
  EXPECT_EQ(ListDashboards(layout, "desk", now, {}).size(), 0u);  // no vouching agent
  WithdrawDashboard(layout, "desk");
  EXPECT_EQ(ListDashboards(layout, "desk", now, agents).size(), 0u);
}

TEST(DashboardRegistryTest, OnlyPlainHttpOriginsAreOffered) {
  EXPECT_EQ(*DashboardOrigin("http://10.0.0.3:8750/"), "http://10.0.0.3:8750");
  EXPECT_EQ(*DashboardOrigin("http://[fe80::1]:8750"), "http://[fe80::1]:8750");
  for (const std::string url :
       {"javascript:alert(1)", "http://evil@10.0.0.3:8750", "http://10.0.0.3:8750/x",
        "http://10.0.0.3", "http://10.0.0.3:0", "http://10.0.0.3:99999", "http://a\x1b:1",
        "http://fe80::1:8750", "https://10.0.0.3:8750"}) {
    EXPECT_FALSE(DashboardOrigin(url).ok()) << url;
  }
}

}  // namespace
}  // namespace cloudbook
