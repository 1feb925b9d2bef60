// A fixture for runs across four network-namespace hosts with the shared folder on an NFS
// server: nfs-ganesha runs inside host 4, bound to its 10.77.<k>.4 address, and exports a
// folder of this disk; hosts 1..3 each have their own local project folder (original/,
// agents/, cache/) and reach the shared folder only as nfs://10.77.<k>.4:<port>/export/proj,
// through the native client (no mount). Cutting a host's link therefore cuts it from the
// shared folder too, as on real machines (namespaces otherwise share this disk).
//
// The test process itself never talks to 10.77.<k>.x (../shared/recipes/README.md): it reads
// what the run left on the server's disk (the export) directly.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/filesystem.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/integration/multihost_fixture.h"
#include "tests/loopback_servers.h"
#include "tests/test_support.h"

namespace cloudbook::testing {

inline constexpr int kAgentHosts = 3;
inline constexpr int kServerHost = 4;
// Host 4's namespace is new and runs nothing else: any port is free there.
inline constexpr int kNfsPort = 12049;
inline constexpr double kGaneshaStartSeconds = 20;

inline std::string ReadIfExists(const std::string& path) {
  return fs::exists(path) ? ReadFileOrDie(path) : "";
}

// The seconds of the first "fetched N data file(s), X MB, ... in T s" line of a log; -1 when
// there is none.
inline double FetchSeconds(const std::string& log) {
  static const std::regex fetched(
      R"(fetched \d+ data file\(s\), [0-9.]+ MB, from nfs://\S+ into \S+ in ([0-9.]+) s)");
  std::smatch match;
  return std::regex_search(log, match, fetched) ? std::stod(match[1].str()) : -1;
}

class MultihostNfsTest : public MultihostAgentsTest {
 protected:
  // Not AgentProcessTest::SetUp: no project folder here may have a distributed/ folder.
  void SetUp() override {
    const std::string why = NetnsHosts::WhyUnavailable();
    if (!why.empty()) GTEST_SKIP() << why;
    const std::string no_ganesha = GaneshaServer::WhyUnavailable();
    if (!no_ganesha.empty()) GTEST_SKIP() << "nfs-ganesha not available: " << no_ganesha;
    if (!fs::exists(FashionMnistDir() + "/train-images-idx3-ubyte.gz")) {
      GTEST_SKIP() << "Fashion-MNIST is not installed";
    }
    // The program on every machine; the data only in the shared folder on the server's disk.
    for (int host = 1; host <= kAgentHosts; ++host) {
      fs::create_directories(ProjectOf(host) + "/original");
      fs::copy_file(
          std::string(CLOUDBOOK_SOURCE_DIR) + "/configs/fashion_mlp/original/fashion_mlp.yaml",
          ProjectOf(host) + "/original/fashion_mlp.yaml");
    }
    const std::string data = ExportedProject() + "/working_dir/fashion-mnist";
    fs::create_directories(data);
    for (const fs::directory_entry& entry : fs::directory_iterator(FashionMnistDir())) {
      fs::copy_file(entry.path(), data + "/" + entry.path().filename().string());
    }
    WriteFile(ExportedProject() + "/config.json", SharedConfig());

    auto hosts = NetnsHosts::Create(kServerHost);
    ASSERT_TRUE(hosts.ok()) << hosts.status().message();
    hosts_ = std::move(*hosts);
    ASSERT_NO_FATAL_FAILURE(StartGanesha());
  }

  void TearDown() override {
    if (ganesha_pid_ > 0 && hosts_ != nullptr) {
      hosts_->Kill(ganesha_pid_, SIGTERM);
      if (hosts_->WaitForExit(ganesha_pid_, 15) == -1) hosts_->Kill(ganesha_pid_, SIGKILL);
    }
    hosts_.reset();  // kills whatever still runs inside and deletes the namespaces
    AgentProcessTest::TearDown();
  }

  // nfs-ganesha (NFSv4 only, VFS back end) inside the server host on its 10.77.<k>.4
  // address, as tests/loopback_servers.h runs it on loopback: no grace period, no attribute
  // caching (a file the test wrote on the server's disk is served at once).
  void StartGanesha() {
    const std::string base = server_.Join("ganesha");
    fs::create_directories(base + "/recov");
    WriteFile(
        base + "/ganesha.conf",
        "NFS_CORE_PARAM { Bind_addr = " + hosts_->Address(kServerHost) +
            "; NFS_Port = " + std::to_string(kNfsPort) +
            "; Protocols = 4; Enable_NLM = false; Enable_RQUOTA = false; }\n"
            "NFSV4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = " +
            base + "/recov; }\nNFS_KRB5 { Active_krb5 = false; }\n" +
            "LOG { Default_Log_Level = EVENT; }\nEXPORT { Export_Id = 1; Path = " + ExportDir() +
            "; Pseudo = /export; Access_Type = RW; Squash = No_Root_Squash; SecType = sys;"
            " Protocols = 4; Transports = TCP; Attr_Expiration_Time = 0; FSAL { Name = VFS; } }\n");
    ganesha_log_ = base + "/ganesha.log";
    auto pid = hosts_->Spawn(kServerHost,
                             {"/usr/bin/ganesha.nfsd", "-F", "-f", base + "/ganesha.conf", "-L",
                              ganesha_log_, "-p", base + "/ganesha.pid"},
                             {}, base + "/ganesha.out");
    ASSERT_TRUE(pid.ok()) << pid.status().message();
    ganesha_pid_ = *pid;
    bool exited = false;
    const bool initialised = WaitFor(
        [&] {
          if (ReadIfExists(ganesha_log_).find("NFS SERVER INITIALIZED") != std::string::npos) {
            return true;
          }
          exited = hosts_->WaitForExit(ganesha_pid_, 0) != -1;
          return exited;
        },
        kGaneshaStartSeconds);
    if (exited) ganesha_pid_ = -1;
    ASSERT_TRUE(initialised && !exited)
        << "nfs-ganesha in host " << kServerHost << (exited ? " exited" : " did not initialise")
        << "; log:\n"
        << ReadIfExists(ganesha_log_).substr(0, 4000) << ReadIfExists(base + "/ganesha.out");
  }

  std::string ExportDir() const { return server_.Join("ganesha/export"); }
  // The shared folder as the server's disk holds it (read by the test) and as clients name it.
  std::string ExportedProject() const { return ExportDir() + "/proj"; }
  std::string Location() const {
    return "nfs://" + hosts_->Address(kServerHost) + ":" + std::to_string(kNfsPort) +
           "/export/proj";
  }
  // Host h's own project folder (host 1's is AgentProcessTest's project_).
  std::string ProjectOf(int host) const override {
    return host == 1 ? project_.path() : other_projects_[host - 2].path();
  }

  // `cloudbook-agent create` inside `host` (it looks the new id up in the shared folder).
  // Host 1 takes the location from P/project.json (the maker's); the others are told.
  std::string CreateAgent(int host) {
    std::vector<std::string> argv = {Agent(),   "create", "--project-folder", ProjectOf(host),
                                     "--grant", "LOW",    "--subnet",         hosts_->Subnet()};
    if (host == 1) argv.push_back("--agent-0");
    if (host != 1) argv.insert(argv.end(), {"--distributed-folder", Location()});
    const HostRunResult created = hosts_->Run(host, argv, 60);
    EXPECT_EQ(created.exit_code, 0) << created.output;
    // The new agent's config is the only one in this machine's P/agents: <id>.json.
    std::string id;
    const std::string agents = ProjectOf(host) + "/agents";
    if (fs::is_directory(agents)) {
      for (const fs::directory_entry& entry : fs::directory_iterator(agents)) {
        if (entry.path().extension() == ".json") id = entry.path().stem().string();
      }
    }
    EXPECT_FALSE(id.empty()) << created.output;
    return id;
  }

  // The agent's announcement on the server's disk, only when present and valid.
  Result<Announcement> HostAnnouncement(const std::string& id) const override {
    auto text = ReadRegularFileBounded(ExportedProject() + "/agents/" + id + ".json",
                                       kMaxAnnouncementBytes);
    if (!text.ok()) return text.status();
    return ParseAnnouncement(*text, id);
  }

  std::string Logs() const override {
    return MultihostAgentsTest::Logs() + "---- ganesha\n" +
           ReadIfExists(ganesha_log_).substr(0, 4000);
  }

  // The shared folder's config.json: short intervals by default, as in multihost_run_test.cc.
  virtual std::string SharedConfig() const { return kShortIntervals; }
  static constexpr const char* kShortIntervals =
      R"({"announce_interval_s": 0.5, "stats_interval_s": 0.5,
          "heartbeat_interval_s": 0.5, "liveness_timeout_s": 3})";

  ScratchDir server_;                           // host 4's disk: ganesha/export/proj
  ScratchDir other_projects_[kAgentHosts - 1];  // hosts 2 and 3's project folders
  ScratchDir plain_;                            // local mode's project, for the baseline
  pid_t ganesha_pid_ = -1;
  std::string ganesha_log_;
};

}  // namespace cloudbook::testing
