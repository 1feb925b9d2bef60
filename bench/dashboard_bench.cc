// Dashboard benchmark (bench/README.md, "Dashboard"): what one page refresh costs, and what
// answering from the watcher's snapshot saves against reading the shared folder per request.
// A synthetic project: N agents' stats files and R finished runs (results files with per-epoch
// histories), served by a real DashboardServer in this process on a loopback port, asked by a
// real HTTP client. Side by side, interleaved every round (the machine is shared and noisy):
//   GET /api/v1/runs        answered from the snapshot (the design);
//   scan, cold              a new RunCatalog reading every file (a per-request design);
//   scan, cached            the watcher's own refresh: a stat per file, re-read only if changed;
//   GET /api/v1/stats       the history of every agent (since=0: the page's first load);
//   GET /api/v1/runs/<run>  one run's detail with its curves.
//
//   build/bin/cloudbook_dashboard_bench [--agents 20] [--runs 100] [--rounds 40]
//                                       [--json bench/results/dashboard.json]
// Exit 0 = ran, 1 = a request failed, 2 = bad command line.
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/filesystem.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dashboard/dashboard_server.h"
#include "dashboard/project_watcher.h"
#include "dashboard/run_catalog.h"
#include "shared/atomic_file.h"
#include "shared/clock.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"

namespace {

namespace fs = boost::filesystem;
using Clock = std::chrono::steady_clock;
using cloudbook::Json;

Json StatsDocument(int agent, int64_t time) {
  return {{"format_version", 1},
          {"id", "agent-" + std::to_string(agent)},
          {"time", time},
          {"interval_s", 2.0},
          {"process", {{"cpu_percent", 95.0}, {"rss_bytes", 300'000'000}}},
          {"machine",
           {{"cpu_percent", 50.0},
            {"memory_total_bytes", 25'000'000'000LL},
            {"memory_available_bytes", 20'000'000'000LL}}},
          {"network", {{"rx_bytes", 1000 * time}, {"tx_bytes", 500 * time}}},
          {"dus", {{{"du", agent}, {"epoch", 3}, {"loss", 0.4}, {"samples_per_second", 5000}}}}};
}

// A results file as agent 0 writes it: 3 DUs, 3 subnets of 20 epochs each.
Json ResultsDocument(int run) {
  Json subnets = Json::array();
  for (int s = 0; s < 3; ++s) {
    Json history = Json::array();
    for (int e = 1; e <= 20; ++e) {
      history.push_back({{"epoch", e},
                         {"agent", "agent-" + std::to_string(s)},
                         {"train_loss", 1.0 / e},
                         {"accuracy", 0.9},
                         {"val_loss", 1.1 / e},
                         {"val_accuracy", 0.88}});
    }
    subnets.push_back({{"index", s}, {"du", s}, {"epochs", 20}, {"history", history}});
  }
  char started[32];
  std::snprintf(started, sizeof started, "2026%02d%02dT%02d%02d00Z", 1 + run % 12, 1 + run % 28,
                run % 24, run % 60);
  return {{"format_version", 1},
          {"run", "run-" + std::to_string(run)},
          {"started", started},
          {"dus", {{{"du", 0}, {"ran_on", "agent-0"}}}},
          {"subnets", subnets},
          {"composed", {{"metrics", {{"accuracy", 0.84}}}}},
          {"baseline", {{"metrics", {{"accuracy", 0.85}}}}},
          {"wall_seconds", 12.5}};
}

struct Series {
  std::vector<double> ms;
  double Percentile(double p) const {
    if (ms.empty()) return 0;
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))];
  }
};

double TimeMs(const std::function<bool()>& work, bool* failed) {
  const Clock::time_point start = Clock::now();
  if (!work()) *failed = true;
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cloudbook_dashboard_bench: what a dashboard page refresh costs (bench/README.md)"};
  int agents = 20;
  int runs = 100;
  int rounds = 40;
  std::string json_path;
  app.add_option("--agents", agents, "Agents' stats files")->check(CLI::Range(1, 10000));
  app.add_option("--runs", runs, "Finished runs (results files)")->check(CLI::Range(1, 100000));
  app.add_option("--rounds", rounds, "Measurements of each kind")->check(CLI::Range(1, 100000));
  app.add_option("--json", json_path, "Write the figures here");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  spdlog::set_level(spdlog::level::warn);

  const fs::path work = fs::temp_directory_path() / fs::unique_path("cloudbook-dash-bench-%%%%");
  const std::string project = (work / "bench").string();
  cloudbook::ProjectLayout layout(project);
  fs::create_directories(layout.stats());
  fs::create_directories(layout.results());
  const int64_t now = cloudbook::UnixTimeMs();
  for (int a = 0; a < agents; ++a) {
    (void)cloudbook::WriteJsonFileAtomically(
        layout.stats() + "/agent-" + std::to_string(a) + ".json", StatsDocument(a, now));
  }
  uintmax_t results_bytes = 0;
  for (int r = 0; r < runs; ++r) {
    const std::string path = layout.results() + "/run-" + std::to_string(r) + ".json";
    (void)cloudbook::WriteJsonFileAtomically(path, ResultsDocument(r));
    results_bytes += fs::file_size(path);
  }

  cloudbook::DashboardOptions options;
  options.project_folder = project;
  options.port = 0;
  options.refresh_s = 2.0;
  auto server = cloudbook::DashboardServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "dashboard: %s\n", server.status().ToString().c_str());
    return 1;
  }
  httplib::Client client("127.0.0.1", (*server)->port());
  auto get = [&](const std::string& path) {
    httplib::Result result = client.Get(path);
    return result && result->status == 200 && !result->body.empty();
  };
  cloudbook::RunCatalog cached(layout);
  cached.List(now);  // warm: the watcher's steady state

  std::map<std::string, Series> series;
  bool failed = false;
  const std::vector<std::string> kinds = {"get_runs", "scan_cold", "scan_cached", "get_stats",
                                          "get_run_detail"};
  for (int round = 0; round < rounds; ++round) {
    for (size_t k = 0; k < kinds.size(); ++k) {
      const std::string& kind = kinds[(k + round) % kinds.size()];  // rotate the order
      double ms = 0;
      if (kind == "get_runs") {
        ms = TimeMs([&] { return get("/api/v1/runs"); }, &failed);
      } else if (kind == "scan_cold") {
        ms = TimeMs(
            [&] {
              cloudbook::RunCatalog cold(layout);
              return cold.List(now).size() == static_cast<size_t>(runs);
            },
            &failed);
      } else if (kind == "scan_cached") {
        ms = TimeMs([&] { return cached.List(now).size() == static_cast<size_t>(runs); }, &failed);
      } else if (kind == "get_stats") {
        ms = TimeMs([&] { return get("/api/v1/stats?since=0"); }, &failed);
      } else {
        ms = TimeMs([&] { return get("/api/v1/runs/run-" + std::to_string(round % runs)); },
                    &failed);
      }
      series[kind].ms.push_back(ms);
    }
  }
  (*server)->Stop();
  fs::remove_all(work);

  std::printf("dashboard bench: %d agents, %d runs (%.1f MB of results), %d rounds\n", agents, runs,
              static_cast<double>(results_bytes) / 1e6, rounds);
  std::printf("%-16s %10s %10s\n", "what", "p50 ms", "p90 ms");
  Json figures = Json::object();
  for (const std::string& kind : kinds) {
    const double p50 = series[kind].Percentile(0.5);
    const double p90 = series[kind].Percentile(0.9);
    std::printf("%-16s %10.3f %10.3f\n", kind.c_str(), p50, p90);
    figures[kind] = {{"p50_ms", p50}, {"p90_ms", p90}};
  }
  const double snapshot_gain =
      series["scan_cold"].Percentile(0.5) / std::max(1e-6, series["get_runs"].Percentile(0.5));
  const double cache_gain =
      series["scan_cold"].Percentile(0.5) / std::max(1e-6, series["scan_cached"].Percentile(0.5));
  std::printf("runs list: snapshot answer %.1fx faster than a cold folder scan per request\n",
              snapshot_gain);
  std::printf("watcher refresh: cached catalog %.1fx faster than a cold scan\n", cache_gain);
  if (!json_path.empty()) {
    Json out = {{"agents", agents},
                {"runs", runs},
                {"results_bytes", results_bytes},
                {"rounds", rounds},
                {"figures", figures},
                {"ratios",
                 {{"cold_scan_over_snapshot_get", snapshot_gain},
                  {"cold_scan_over_cached_scan", cache_gain}}}};
    const cloudbook::Status written = cloudbook::WriteJsonFileAtomically(json_path, out);
    if (!written.ok()) std::fprintf(stderr, "--json: %s\n", written.ToString().c_str());
  }
  if (failed) std::fprintf(stderr, "some requests failed\n");
  return failed ? 1 : 0;
}
