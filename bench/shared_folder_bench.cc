// Shared-folder benchmark (bench/README.md, "Shared folder"): the SharedFolder back ends side
// by side in one run, each reached through OpenSharedFolder as the components reach it:
//   local   a folder on this machine's disk (the reference every ratio is taken against);
//   nfs     nfs-ganesha on a free loopback port, started here (tests/loopback_servers.h);
//   rclone  `rclone serve webdav` on a free loopback port, started here, as a config-less
//           remote (:webdav,url="http://127.0.0.1:PORT",vendor=rclone:);
//   sync    sync:///<work>/sync (a folder kept in step by a desktop sync client).
// Per back end, two clients A and B (two SharedFolders opened on the same location):
//   announce latency  A writes a ~300-byte announcement with WriteFileAtomically while B polls
//                     ReadFile; from A's write start to B's first read of the new version;
//   small write/read  A's WriteFileAtomically of another announcement alone, then B's ReadFile;
//   large read        B's ReadFile of a 50 MB file of random bytes (written once by A).
// The machine is shared and noisy, so back ends take turns within every round (the order
// rotates by one each round) and the figures are medians and p90 with ratios against local.
//
//   build-bench/bin/cloudbook_shared_folder_bench [--rounds 50] [--json PATH] [--backends ...]
//   (--help lists every option; exit 0 = ran (a skipped back end is not an error), 1 = a
//   measurement failed or a read returned wrong bytes, 2 = bad command line)
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/filesystem.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "fs_adapters/open_shared_folder.h"
#include "shared/json_io.h"
#include "shared/shared_folder.h"
#include "tests/loopback_servers.h"

namespace {

namespace fs = boost::filesystem;
using Clock = std::chrono::steady_clock;
using cloudbook::Json;
using cloudbook::OpenSharedFolder;
using cloudbook::Result;
using cloudbook::SharedFolder;
using cloudbook::Status;
using cloudbook::testing::FreeLoopbackPort;
using cloudbook::testing::GaneshaServer;
using cloudbook::testing::RcloneWebdavServer;

constexpr char kAnnounceName[] = "agents/agent-1.json";  // written while B polls
constexpr char kQuietName[] = "agents/agent-2.json";     // small write and read alone
constexpr char kDataName[] = "working_dir/data.bin";
constexpr size_t kSmallMax = 64 * 1024;
// Bounds every wait of one announce round (a back end retrying past it counts as failed).
constexpr auto kRoundBudget = std::chrono::seconds(30);
const std::vector<std::string> kAllBackends = {"local", "nfs", "rclone", "sync"};

struct Settings {
  int rounds = 50;
  int read_rounds = 5;
  int data_mb = 50;
  int poll_us = 200;
  std::vector<std::string> backends = kAllBackends;
  std::string json_path = "bench/results/shared_folder.json";
  std::string work_dir;  // empty: a fresh folder under $TMPDIR (or /tmp), removed at the end
  bool keep_work = false;
  bool verbose = false;
};

// One series of samples, indexed by round; a failed round holds NaN.
struct Series {
  std::vector<double> values;
  void Add(double v) { values.push_back(v); }
  std::vector<double> Valid() const {
    std::vector<double> valid;
    for (double v : values) {
      if (!std::isnan(v)) valid.push_back(v);
    }
    return valid;
  }
};

// Nearest-rank percentile (p in (0, 1]); NaN when empty.
double Percentile(const Series& series, double p) {
  std::vector<double> v = series.Valid();
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size(), std::max<size_t>(rank, 1)) - 1];
}

// Median over rounds of (this round's value / the reference's value in the same round): the
// two were measured seconds apart, so machine load hits both alike.
double MedianRoundRatio(const Series& series, const Series& reference) {
  Series ratios;
  for (size_t i = 0; i < series.values.size() && i < reference.values.size(); ++i) {
    ratios.Add(series.values[i] / reference.values[i]);
  }
  return Percentile(ratios, 0.5);
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// JSON numbers: rounded to 4 significant-ish decimals; NaN (nothing measured) as null.
Json Number(double v, double scale = 1000) {
  if (std::isnan(v) || std::isinf(v)) return nullptr;
  return std::round(v * scale) / scale;
}

Json Summary(const Series& s) {
  Json samples = Json::array();
  for (double v : s.values) samples.push_back(Number(v));
  return {{"p50", Number(Percentile(s, 0.5))},
          {"p90", Number(Percentile(s, 0.9))},
          {"min", Number(Percentile(s, 1e-9))},
          {"max", Number(Percentile(s, 1.0))},
          {"n", s.Valid().size()},
          {"samples", samples}};
}

struct Backend {
  std::string name;
  std::string location;
  std::string skipped;       // why it was not measured at all
  std::string read_skipped;  // why the large read was not measured
  std::unique_ptr<SharedFolder> a, b;
  Series announce_ms, writer_ms, write_ms, read_ms, large_read_s;
  double data_write_s = std::nan("");
  int failed_rounds = 0;
  int poll_errors = 0;  // ReadFile errors while polling (a back end's transient states)
  int stale_reads = 0;  // a read alone after the write returned the old version
  int wrong_bytes = 0;  // a large read that differed from what was written
  std::string last_error;
  bool Measured() const { return skipped.empty(); }
};

// What an agent announcement looks like (shared/formats/announcement.h): ~300 bytes of JSON.
std::string Announcement(int sequence) {
  const Json announcement = {
      {"agent_id", "agent-1"},
      {"host", "127.0.0.1"},
      {"endpoint", "tcp://127.0.0.1:47001"},
      {"curve_public_key", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"},
      {"grant", "LOW"},
      {"state", "running"},
      {"gflops", 11.84},
      {"sequence", sequence},
      {"announced_unix_ns", std::chrono::system_clock::now().time_since_epoch().count()},
      {"signature",
       "3q2+7wAAAAC8Zt1mJ0y9k8QZp0m3xkqf2VbLr5w1sTgN4eYhP6uJcR0aDlXoIzFHvMnBiGtEyUCSK7OjWdP"
       "9+qA=="}};
  return announcement.dump();
}

std::string RandomBytes(size_t size) {
  std::mt19937_64 random(42);
  std::string bytes(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    const uint64_t word = random();
    std::memcpy(&bytes[i], &word, 8);
  }
  return bytes;
}

// Started servers, stopped by PID when this goes out of scope.
struct Servers {
  std::unique_ptr<GaneshaServer> nfs;
  std::unique_ptr<RcloneWebdavServer> webdav;
};

// Where each back end lives in this run, or why it cannot run here.
std::string PrepareLocation(Backend& backend, const std::string& work, Servers& servers) {
  if (backend.name == "local") {
    fs::create_directories(work + "/local");
    backend.location = work + "/local";
  } else if (backend.name == "nfs") {
    const std::string why = GaneshaServer::WhyUnavailable();
    if (!why.empty()) return "nfs-ganesha not installed (" + why + ")";
    servers.nfs = std::make_unique<GaneshaServer>(work + "/ganesha", FreeLoopbackPort());
    const std::string start = servers.nfs->Start();
    if (!start.empty()) return "nfs-ganesha did not start: " + start;
    fs::create_directories(servers.nfs->ExportDir() + "/bench");
    backend.location = "nfs://127.0.0.1:" + std::to_string(servers.nfs->port()) + "/export/bench";
  } else if (backend.name == "rclone") {
    const std::string why = RcloneWebdavServer::WhyUnavailable();
    if (!why.empty()) return "rclone not installed (" + why + ")";
    servers.webdav = std::make_unique<RcloneWebdavServer>(work + "/webdav", FreeLoopbackPort());
    const std::string start = servers.webdav->Start(work + "/webdav.log");
    if (!start.empty()) return "rclone serve webdav did not start: " + start;
    backend.location = servers.webdav->Remote("");
  } else if (backend.name == "sync") {
    fs::create_directories(work + "/sync");
    backend.location = "sync://" + work + "/sync";
  }
  return "";
}

// Opens clients A and B and checks that a write on A reads back on B.
std::string OpenClients(Backend& backend) {
  for (std::unique_ptr<SharedFolder>* client : {&backend.a, &backend.b}) {
    Result<std::unique_ptr<SharedFolder>> opened = OpenSharedFolder(backend.location);
    if (!opened.ok()) return "OpenSharedFolder refused it: " + opened.status().ToString();
    *client = std::move(opened).value();
  }
  for (const char* name : {kAnnounceName, kQuietName}) {
    const std::string first = Announcement(-1);
    const Status written = backend.a->WriteFileAtomically(name, first);
    if (!written.ok()) return "first write failed: " + written.ToString();
    const Result<std::string> read = backend.b->ReadFile(name, kSmallMax);
    if (!read.ok()) return "first read failed: " + read.status().ToString();
    if (*read != first) return "first read on B did not return A's write";
  }
  return "";
}

// A writes the announcement of `sequence` while B polls for it.
void AnnounceRound(Backend& backend, int sequence, const Settings& settings) {
  const std::string contents = Announcement(sequence);
  std::promise<void> polling;
  std::future<void> b_is_polling = polling.get_future();
  std::atomic<bool> stop{false};
  Clock::time_point seen{};
  std::atomic<int> errors{0};
  std::string last_error;
  std::thread poller([&] {
    bool told = false;
    const auto deadline = Clock::now() + kRoundBudget;
    while (!stop && Clock::now() < deadline) {
      const Result<std::string> read = backend.b->ReadFile(kAnnounceName, kSmallMax);
      const Clock::time_point now = Clock::now();
      if (!told) {
        polling.set_value();  // A writes only once B is polling
        told = true;
      }
      if (read.ok() && *read == contents) {
        seen = now;
        return;
      }
      if (!read.ok()) {
        ++errors;
        last_error = read.status().ToString();
      }
      if (settings.poll_us > 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(settings.poll_us));  // poll period
      }
    }
    if (!told) polling.set_value();
  });
  Status written = Status::Internal("B did not start polling");
  Clock::time_point start{}, written_at{};
  if (b_is_polling.wait_for(kRoundBudget) == std::future_status::ready) {
    start = Clock::now();
    written = backend.a->WriteFileAtomically(kAnnounceName, contents);
    written_at = Clock::now();
  }
  if (!written.ok()) stop = true;  // nothing new to see
  poller.join();
  backend.poll_errors += errors;
  if (!last_error.empty()) backend.last_error = "poll: " + last_error;
  if (!written.ok() || seen == Clock::time_point{}) {
    ++backend.failed_rounds;
    if (!written.ok()) backend.last_error = "announce write: " + written.ToString();
    backend.announce_ms.Add(std::nan(""));
    backend.writer_ms.Add(std::nan(""));
    return;
  }
  backend.announce_ms.Add(Ms(seen - start));
  backend.writer_ms.Add(Ms(written_at - start));
}

// A's small write alone, then B's read of it.
void QuietRound(Backend& backend, int sequence) {
  const std::string contents = Announcement(sequence);
  const Clock::time_point start = Clock::now();
  const Status written = backend.a->WriteFileAtomically(kQuietName, contents);
  const Clock::time_point written_at = Clock::now();
  const Result<std::string> read = backend.b->ReadFile(kQuietName, kSmallMax);
  const Clock::time_point read_at = Clock::now();
  if (!written.ok()) backend.last_error = "small write: " + written.ToString();
  if (!read.ok()) backend.last_error = "small read: " + read.status().ToString();
  if (written.ok() && read.ok() && *read != contents) ++backend.stale_reads;
  backend.write_ms.Add(written.ok() ? Ms(written_at - start) : std::nan(""));
  backend.read_ms.Add(read.ok() ? Ms(read_at - written_at) : std::nan(""));
}

void LargeReadRound(Backend& backend, const std::string& data) {
  const Clock::time_point start = Clock::now();
  const Result<std::string> read = backend.b->ReadFile(kDataName, data.size());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!read.ok()) {
    backend.last_error = "large read: " + read.status().ToString();
    backend.large_read_s.Add(std::nan(""));
    return;
  }
  if (*read != data) ++backend.wrong_bytes;
  backend.large_read_s.Add(*read == data ? seconds : std::nan(""));
}

// The back ends taking part in this round, rotated by `round` so none is always first.
std::vector<Backend*> RoundOrder(std::vector<Backend>& backends, int round, bool need_large_read) {
  std::vector<Backend*> measured;
  for (Backend& backend : backends) {
    if (backend.Measured() && (!need_large_read || backend.read_skipped.empty())) {
      measured.push_back(&backend);
    }
  }
  if (!measured.empty()) {
    std::rotate(measured.begin(),
                measured.begin() + static_cast<long>(static_cast<size_t>(round) % measured.size()),
                measured.end());
  }
  return measured;
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

Json LoadAverage() {
  double load[3] = {0, 0, 0};
  if (::getloadavg(load, 3) != 3) return nullptr;
  return {Number(load[0], 100), Number(load[1], 100), Number(load[2], 100)};
}

double MBps(double bytes, double seconds) { return bytes / 1e6 / seconds; }

std::string Cell(double v, const char* format) {
  if (std::isnan(v)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

// Prints the table and returns the JSON of every back end.
Json Report(const std::vector<Backend>& backends, const Settings& settings, size_t data_bytes) {
  const Backend* local = nullptr;
  for (const Backend& backend : backends) {
    if (backend.name == "local" && backend.Measured()) local = &backend;
  }
  std::printf("\n%-7s | %-23s | %-16s | %-16s | %-27s\n", "", "announce A->B ms", "small write ms",
              "small read ms", (std::to_string(settings.data_mb) + " MB read MB/s").c_str());
  std::printf("%-7s | %7s %7s %7s | %7s %8s | %7s %8s | %7s %8s %10s\n", "backend", "p50", "p90",
              "x local", "p50", "p90", "p50", "p90", "p50", "p90 time", "of local");
  std::printf(
      "--------+-------------------------+------------------+------------------+"
      "----------------------------\n");
  Json result = Json::object();
  for (const Backend& backend : backends) {
    Json entry = {{"location", backend.location}};
    if (!backend.Measured()) {
      std::printf("%-7s | skipped: %s\n", backend.name.c_str(), backend.skipped.c_str());
      entry["skipped"] = backend.skipped;
      result[backend.name] = entry;
      continue;
    }
    // backend's p50 / local's p50 of one series (NaN without local).
    auto times_local = [&](Series Backend::*series) {
      return local == nullptr ? std::nan("")
                              : Percentile(backend.*series, 0.5) / Percentile(local->*series, 0.5);
    };
    // MB/s at the p50 (and p90) read time: one definition for this back end and for local.
    const double mbps_p50 =
        MBps(static_cast<double>(data_bytes), Percentile(backend.large_read_s, 0.5));
    const double mbps_p90_time =
        MBps(static_cast<double>(data_bytes), Percentile(backend.large_read_s, 0.9));
    const double local_mbps = local == nullptr ? std::nan("")
                                               : MBps(static_cast<double>(data_bytes),
                                                      Percentile(local->large_read_s, 0.5));
    std::printf("%-7s | %7s %7s %7s | %7s %8s | %7s %8s | %7s %8s %10s\n", backend.name.c_str(),
                Cell(Percentile(backend.announce_ms, 0.5), "%.2f").c_str(),
                Cell(Percentile(backend.announce_ms, 0.9), "%.2f").c_str(),
                Cell(times_local(&Backend::announce_ms), "%.1fx").c_str(),
                Cell(Percentile(backend.write_ms, 0.5), "%.2f").c_str(),
                Cell(Percentile(backend.write_ms, 0.9), "%.2f").c_str(),
                Cell(Percentile(backend.read_ms, 0.5), "%.2f").c_str(),
                Cell(Percentile(backend.read_ms, 0.9), "%.2f").c_str(),
                Cell(mbps_p50, "%.0f").c_str(), Cell(mbps_p90_time, "%.0f").c_str(),
                Cell(mbps_p50 / local_mbps * 100, "%.0f%%").c_str());
    entry["announce_ms"] = Summary(backend.announce_ms);
    entry["writer_ms_during_announce"] = Summary(backend.writer_ms);
    entry["small_write_ms"] = Summary(backend.write_ms);
    entry["small_read_ms"] = Summary(backend.read_ms);
    entry["large_read"] = {{"bytes", data_bytes},
                           {"MBps_p50", Number(mbps_p50, 10)},
                           {"MBps_at_p90_time", Number(mbps_p90_time, 10)},
                           {"seconds", Summary(backend.large_read_s)}};
    if (!backend.read_skipped.empty()) entry["large_read"]["skipped"] = backend.read_skipped;
    entry["large_write_once"] = {
        {"seconds", Number(backend.data_write_s)},
        {"MBps", Number(MBps(static_cast<double>(data_bytes), backend.data_write_s), 10)}};
    entry["failed_rounds"] = backend.failed_rounds;
    entry["poll_errors"] = backend.poll_errors;
    entry["stale_reads"] = backend.stale_reads;
    entry["wrong_bytes_reads"] = backend.wrong_bytes;
    if (!backend.last_error.empty()) entry["last_error"] = backend.last_error;
    if (local != nullptr && &backend != local) {
      entry["vs_local"] = {{"announce_p50_times_local", Number(times_local(&Backend::announce_ms))},
                           {"announce_round_ratio_p50",
                            Number(MedianRoundRatio(backend.announce_ms, local->announce_ms))},
                           {"small_write_p50_times_local", Number(times_local(&Backend::write_ms))},
                           {"small_read_p50_times_local", Number(times_local(&Backend::read_ms))},
                           {"large_read_MBps_p50_share_of_local", Number(mbps_p50 / local_mbps)},
                           {"large_read_round_time_ratio_p50",
                            Number(MedianRoundRatio(backend.large_read_s, local->large_read_s))}};
    }
    result[backend.name] = entry;
  }
  for (const Backend& backend : backends) {
    if (!backend.Measured()) continue;
    if (backend.failed_rounds + backend.poll_errors + backend.stale_reads + backend.wrong_bytes >
            0 ||
        !backend.read_skipped.empty()) {
      std::printf(
          "%s: %d failed announce rounds, %d read errors while polling, %d stale reads, "
          "%d wrong large reads%s%s%s%s\n",
          backend.name.c_str(), backend.failed_rounds, backend.poll_errors, backend.stale_reads,
          backend.wrong_bytes, backend.read_skipped.empty() ? "" : "; large read skipped: ",
          backend.read_skipped.c_str(),
          backend.last_error.empty() ? "" : "; last error: ", backend.last_error.c_str());
    }
  }
  return result;
}

int RunBench(const Settings& settings, const std::string& command) {
  const Clock::time_point run_start = Clock::now();
  const std::string started_utc = UtcNow();
  const Json load_at_start = LoadAverage();
  std::string work = settings.work_dir;
  if (work.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/cloudbook-sfbench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::fprintf(stderr, "shared_folder_bench: cannot create a work folder under %s\n",
                   pattern.c_str());
      return 1;
    }
    work = pattern;
  }
  work = fs::absolute(work).string();
  fs::create_directories(work);
  std::printf("[shared_folder_bench] %s, work folder %s, load average %s\n", started_utc.c_str(),
              work.c_str(), load_at_start.dump().c_str());

  int exit_code = 0;
  Json results;
  std::string data;
  {
    Servers servers;  // stopped (by PID) when this block ends, before the work folder goes
    std::vector<Backend> backends;
    for (const std::string& name : settings.backends) {
      Backend backend;
      backend.name = name;
      backend.skipped = PrepareLocation(backend, work, servers);
      if (backend.Measured()) backend.skipped = OpenClients(backend);
      std::printf(
          "[shared_folder_bench] %-6s %s\n", name.c_str(),
          backend.Measured() ? backend.location.c_str() : ("skipped: " + backend.skipped).c_str());
      backends.push_back(std::move(backend));
    }

    for (int round = 0; round < settings.rounds; ++round) {
      for (Backend* backend : RoundOrder(backends, round, false)) {
        AnnounceRound(*backend, round, settings);
        QuietRound(*backend, round);
      }
      if ((round + 1) % 10 == 0 || round + 1 == settings.rounds) {
        std::printf("[shared_folder_bench] announce round %d/%d\n", round + 1, settings.rounds);
        std::fflush(stdout);
      }
    }

    data = RandomBytes(static_cast<size_t>(settings.data_mb) * 1000 * 1000);
    for (Backend* backend : RoundOrder(backends, 0, false)) {
      const Clock::time_point start = Clock::now();
      const Status written = backend->a->WriteFileAtomically(kDataName, data);
      backend->data_write_s = std::chrono::duration<double>(Clock::now() - start).count();
      if (!written.ok()) backend->read_skipped = "writing the data file: " + written.ToString();
      std::printf("[shared_folder_bench] %-6s wrote %d MB in %.2f s%s\n", backend->name.c_str(),
                  settings.data_mb, backend->data_write_s, written.ok() ? "" : " (failed)");
    }
    for (int round = 0; round < settings.read_rounds; ++round) {
      for (Backend* backend : RoundOrder(backends, round, true)) LargeReadRound(*backend, data);
      std::printf("[shared_folder_bench] large read round %d/%d\n", round + 1,
                  settings.read_rounds);
      std::fflush(stdout);
    }

    std::printf(
        "\nShared-folder benchmark, %s: %d announce rounds, %d large reads of %d MB each, back "
        "ends "
        "interleaved round by round (B polls every %d us)\n",
        started_utc.c_str(), settings.rounds, settings.read_rounds, settings.data_mb,
        settings.poll_us);
    results = Report(backends, settings, data.size());
    for (const Backend& backend : backends) {
      if (backend.wrong_bytes > 0 || backend.stale_reads > 0) exit_code = 1;
      if (backend.name == "local" && !backend.Measured()) exit_code = 1;
    }
  }
  const Json load_at_end = LoadAverage();
  const double total_s = std::chrono::duration<double>(Clock::now() - run_start).count();
  std::printf("\nload average at start %s, at end %s; total %.1f s\n", load_at_start.dump().c_str(),
              load_at_end.dump().c_str(), total_s);

  const Json report = {
      {"benchmark", "shared_folder"},
      {"command", command},
      {"started_utc", started_utc},
      {"host", "loopback 127.0.0.1; servers started by the benchmark"},
      {"method",
       "two clients A and B per back end (two SharedFolders opened on one location); announce = "
       "A's WriteFileAtomically start to the end of B's first ReadFile returning the new bytes "
       "(B polling); small write / read = A's write alone, then B's read of it; large read = B's "
       "ReadFile of a file of random bytes written once by A; back ends take turns within each "
       "round, order rotated every round; p50/p90 nearest-rank; MB = 10^6 bytes"},
      {"settings",
       {{"rounds", settings.rounds},
        {"read_rounds", settings.read_rounds},
        {"data_bytes", data.size()},
        {"announcement_bytes", Announcement(0).size()},
        {"poll_us", settings.poll_us}}},
      {"load_average_at_start", load_at_start},
      {"load_average_at_end", load_at_end},
      {"backends", results},
      {"total_run_seconds", Number(total_s, 10)}};
  if (!settings.json_path.empty()) {
    const Status written = cloudbook::WriteJsonFileAtomically(settings.json_path, report);
    if (!written.ok()) {
      std::fprintf(stderr, "shared_folder_bench: %s\n", written.ToString().c_str());
      exit_code = 1;
    } else {
      std::printf("Wrote %s\n", settings.json_path.c_str());
    }
  }
  if (settings.keep_work) {
    std::printf("Kept %s\n", work.c_str());
  } else {
    boost::system::error_code ignored;
    fs::remove_all(work, ignored);
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  cloudbook::InstallSharedFolderBackends();
  Settings settings;
  CLI::App app{
      "Shared-folder benchmark: announce latency (write on client A, first sight on client B), "
      "small write and read, and large-read throughput of each SharedFolder back end (local, "
      "NFS via nfs-ganesha and rclone via `rclone serve webdav`, both started on loopback, and "
      "sync://), interleaved in one run, with ratios against local (bench/README.md). Exit 0: "
      "ran (a skipped back end is not an error); 1: a measurement failed or a read returned "
      "wrong bytes; 2: bad command line."};
  app.add_option("--rounds", settings.rounds, "announce rounds (each also a small write and read)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--read-rounds", settings.read_rounds, "large reads per back end")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--data-mb", settings.data_mb, "size of the large file, MB (10^6 bytes)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--backends", settings.backends, "back ends to measure, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember(kAllBackends))
      ->capture_default_str();
  app.add_option("--poll-us", settings.poll_us, "B's pause between two polls, microseconds")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--json", settings.json_path, "JSON result file (empty: none)")
      ->capture_default_str();
  app.add_option("--work-dir", settings.work_dir,
                 "folder for the servers and back ends (default: a new one under $TMPDIR)");
  app.add_flag("--keep-work", settings.keep_work, "keep the work folder at the end");
  app.add_flag("--verbose", settings.verbose, "show the back ends' info log lines");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  // Back ends log reconnects and clean-ups; only warnings interrupt the table by default.
  spdlog::set_level(settings.verbose ? spdlog::level::info : spdlog::level::warn);
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i > 0 ? " " : "") + std::string(argv[i]);
  if (std::getenv("RCLONE_CONFIG") == nullptr) {
    ::setenv("RCLONE_CONFIG", "/dev/null", 1);  // config-less remotes: no user config needed
  }
  return RunBench(settings, command);
}
