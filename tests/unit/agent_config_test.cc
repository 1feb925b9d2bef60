// The agent's local side: grant levels, ids, keys, the 0600 local config, agent-0 uniqueness,
// address and port choice, the pid-file lock, and the create / edit / delete commands.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <regex>
#include <set>

#include "agent/core/agent_commands.h"
#include "agent/core/port_reservation.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/agent_keys.h"
#include "shared/formats/announcement.h"
#include "shared/formats/grant.h"
#include "shared/formats/pid_file.h"
#include "shared/host_address.h"
#include "shared/private_files.h"
#include "shared/project_layout.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::ScratchDir;

TEST(Grant, ParsesNamesInAnyCase) {
  EXPECT_EQ(*ParseGrant("HIGH"), Grant::kHigh);
  EXPECT_EQ(*ParseGrant("medium"), Grant::kMedium);
  EXPECT_EQ(*ParseGrant("Low"), Grant::kLow);
  EXPECT_FALSE(ParseGrant("HUGE").ok());
  EXPECT_EQ(GrantName(Grant::kMedium), "MEDIUM");
}

TEST(Grant, LendsOneHalfOrAllCores) {
  EXPECT_EQ(LentCores(Grant::kLow, 8), 1);
  EXPECT_EQ(LentCores(Grant::kMedium, 8), 4);
  EXPECT_EQ(LentCores(Grant::kHigh, 8), 8);
  EXPECT_EQ(LentCores(Grant::kMedium, 1), 1);
  EXPECT_EQ(LentCores(Grant::kMedium, 3), 1);
  EXPECT_EQ(LentCores(Grant::kHigh, 0), 1);
  EXPECT_GE(MachineCores(), 1);
}

TEST(Grant, GpuOnlyForHighWithCuda) {
  auto high_cuda = ComputeGrantLimits(Grant::kHigh, DeviceChoice::kAuto, 4, true);
  ASSERT_TRUE(high_cuda.ok());
  EXPECT_TRUE(high_cuda->use_gpu);
  EXPECT_EQ(high_cuda->device, "cuda");
  auto medium_cuda = ComputeGrantLimits(Grant::kMedium, DeviceChoice::kAuto, 4, true);
  ASSERT_TRUE(medium_cuda.ok());
  EXPECT_FALSE(medium_cuda->use_gpu);
  EXPECT_EQ(medium_cuda->cores, 2);
  auto high_no_cuda = ComputeGrantLimits(Grant::kHigh, DeviceChoice::kAuto, 4, false);
  ASSERT_TRUE(high_no_cuda.ok());
  EXPECT_EQ(high_no_cuda->device, "cpu");
  auto cpu = ComputeGrantLimits(Grant::kHigh, DeviceChoice::kCpu, 4, true);
  ASSERT_TRUE(cpu.ok());
  EXPECT_FALSE(cpu->use_gpu);
}

TEST(Grant, CudaRequestsExplainWhatIsMissing) {
  auto absent = ComputeGrantLimits(Grant::kHigh, DeviceChoice::kCuda, 4, false);
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.status().message().find("no CUDA"), std::string::npos);
  EXPECT_NE(absent.status().message().find("--device cpu"), std::string::npos);
  auto low = ComputeGrantLimits(Grant::kLow, DeviceChoice::kCuda, 4, true);
  ASSERT_FALSE(low.ok());
  EXPECT_NE(low.status().message().find("grant HIGH"), std::string::npos);
}

TEST(AgentId, GeneratedIdsAreReadableAndVaried) {
  const std::regex pattern("agent-[a-z]+-[a-z]+-[0-9a-f]{4}");
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    const std::string id = GenerateAgentId();
    EXPECT_TRUE(std::regex_match(id, pattern)) << id;
    EXPECT_TRUE(ValidateAgentId(id).ok()) << id;
    ids.insert(id);
  }
  EXPECT_GE(ids.size(), 45u);
}

TEST(AgentId, RejectsNamesThatAreNotSafeFileNames) {
  EXPECT_TRUE(ValidateAgentId("agent-0").ok());
  EXPECT_TRUE(ValidateAgentId("My_agent.2").ok());
  for (const std::string& bad :
       std::vector<std::string>{"", "../x", "a/b", ".hidden", "-x", "a b", std::string(65, 'a')}) {
    EXPECT_FALSE(ValidateAgentId(bad).ok()) << bad;
  }
}

TEST(AgentKeys, CurveKeysComeInMatchingPairs) {
  ASSERT_TRUE(CurveAvailable()) << "Debian's libzmq has CURVE";
  auto first = GenerateCurveKeyPair();
  auto second = GenerateCurveKeyPair();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(IsCurveKeyZ85(first->public_key));
  EXPECT_TRUE(ValidateCurveKeyPair(*first).ok());
  EXPECT_NE(first->public_key, second->public_key);
  CurveKeyPair mixed{first->public_key, second->secret_key};
  EXPECT_FALSE(ValidateCurveKeyPair(mixed).ok());
}

TEST(AgentKeys, SignaturesVerifyOnlyForTheSameMessageAndKey) {
  auto keys = GenerateSigningKeyPair();
  auto other = GenerateSigningKeyPair();
  ASSERT_TRUE(keys.ok() && other.ok());
  EXPECT_TRUE(CheckSigningKeyPair(*keys).ok());
  EXPECT_FALSE(CheckSigningKeyPair({other->public_key, keys->secret_key}).ok());
  auto signature = SignDetached("hello", keys->secret_key);
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(signature->size(), 128u);
  EXPECT_TRUE(VerifyDetached("hello", *signature, keys->public_key));
  EXPECT_FALSE(VerifyDetached("hellp", *signature, keys->public_key));
  EXPECT_FALSE(VerifyDetached("hello", *signature, other->public_key));
  EXPECT_FALSE(VerifyDetached("hello", "zz", keys->public_key));
}

TEST(AgentFiles, PrivateFilesAreOwnerOnlyWhateverTheUmask) {
  ScratchDir dir;
  const mode_t previous = ::umask(0);
  const Status written = WritePrivateFileAtomically(dir.Join("new/secret.json"), "{}");
  ::umask(previous);
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(FileMode(dir.Join("new/secret.json")), 0600);
  EXPECT_EQ(FileMode(dir.Join("new")), 0700);
  EXPECT_EQ(testing::ReadFileOrDie(dir.Join("new/secret.json")), "{}");
  // Replacing keeps the mode; the exclusive variant refuses an existing file.
  ASSERT_TRUE(WritePrivateFileAtomically(dir.Join("new/secret.json"), "{\"a\":1}").ok());
  EXPECT_EQ(FileMode(dir.Join("new/secret.json")), 0600);
  const Status again = WritePrivateFileExclusively(dir.Join("new/secret.json"), "{}");
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.message().find("already exists"), std::string::npos);
  EXPECT_EQ(testing::ReadFileOrDie(dir.Join("new/secret.json")), "{\"a\":1}");
  // No temporaries left behind.
  int files = 0;
  for (fs::directory_iterator it(dir.Join("new")), end; it != end; ++it) ++files;
  EXPECT_EQ(files, 1);
}

TEST(AgentFiles, BoundedReadsRefuseSymlinksAndLargeFiles) {
  ScratchDir dir;
  testing::WriteFile(dir.Join("small"), "abc");
  testing::WriteFile(dir.Join("large"), std::string(2000, 'x'));
  fs::create_symlink(dir.Join("small"), dir.Join("link"));
  EXPECT_EQ(*ReadRegularFileBounded(dir.Join("small"), 1000), "abc");
  auto large = ReadRegularFileBounded(dir.Join("large"), 1000);
  ASSERT_FALSE(large.ok());
  EXPECT_NE(large.status().message().find("limit"), std::string::npos);
  auto link = ReadRegularFileBounded(dir.Join("link"), 1000);
  ASSERT_FALSE(link.ok());
  EXPECT_NE(link.status().message().find("symlink"), std::string::npos);
  EXPECT_EQ(ReadRegularFileBounded(dir.Join("none"), 1000).status().code(),
            Status::Code::kNotFound);
  EXPECT_FALSE(ReadRegularFileBounded(dir.path(), 1000).ok());  // a folder
}

// A project folder with a distributed/ folder, and a helper to create agents in it.
class AgentProject : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(project_.Join("distributed")); }

  CommandOutcome Create(Grant grant, bool agent_0, std::string* id) {
    CreateOptions options;
    options.project_folder = project_.path();
    options.grant = grant;
    options.agent_0 = agent_0;
    return CreateAgent(options, id);
  }

  std::string CreateOrDie(Grant grant, bool agent_0 = false) {
    std::string id;
    const CommandOutcome outcome = Create(grant, agent_0, &id);
    EXPECT_TRUE(outcome.ok()) << outcome.message();
    return id;
  }

  ScratchDir project_;
};

TEST_F(AgentProject, CreateWritesAPrivateConfigWithKeys) {
  const std::string id = CreateOrDie(Grant::kMedium);
  const std::string path = project_.Join("agents/" + id + ".json");
  EXPECT_EQ(ProjectLayout(project_.path()).agent_config_file(id), path);
  EXPECT_EQ(FileMode(path), 0600);
  EXPECT_EQ(FileMode(project_.Join("agents")), 0700);
  auto config = ReadAgentConfig(project_.path(), id);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->id, id);
  EXPECT_EQ(config->grant, Grant::kMedium);
  EXPECT_FALSE(config->agent_0);
  EXPECT_EQ(config->base_port, 5550);
  EXPECT_EQ(config->fixed_port, 0);
  EXPECT_EQ(config->bind_address, "auto");
  EXPECT_EQ(config->device, DeviceChoice::kAuto);
  EXPECT_FALSE(config->plaintext);
  EXPECT_EQ(config->shared_folder,
            fs::path(project_.Join("distributed")).lexically_normal().string());
  EXPECT_TRUE(ValidateCurveKeyPair(config->curve).ok());
  EXPECT_TRUE(CheckSigningKeyPair(config->signing).ok());
  EXPECT_EQ(config->created.size(), 20u);  // 2024-05-01T12:00:00Z
  // Nothing in the shared folder: secrets stay local.
  EXPECT_FALSE(fs::exists(project_.Join("distributed/agents")));
}

TEST_F(AgentProject, ConfigRoundTripsThroughJson) {
  const std::string id = CreateOrDie(Grant::kHigh);
  auto config = ReadAgentConfig(project_.path(), id);
  ASSERT_TRUE(config.ok());
  config->fixed_port = 6000;
  config->subnet = "10.0.0.0/24";
  config->device = DeviceChoice::kCpu;
  auto again = AgentConfigFromJson(ToJson(*config), "test");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ToJson(*again), ToJson(*config));
}

TEST_F(AgentProject, DamagedConfigsAreRefusedWithTheFieldNamed) {
  const std::string id = CreateOrDie(Grant::kLow);
  const Json good = ToJson(*ReadAgentConfig(project_.path(), id));
  const auto expect_error = [&](Json json, const std::string& expected) {
    auto parsed = AgentConfigFromJson(json, "agents/x.json");
    ASSERT_FALSE(parsed.ok()) << expected;
    EXPECT_NE(parsed.status().message().find(expected), std::string::npos)
        << parsed.status().message();
  };
  Json bad = good;
  bad["grant"] = "HUGE";
  expect_error(bad, "grant");
  bad = good;
  bad["base_port"] = "5550";
  expect_error(bad, "base_port");
  bad = good;
  bad["signing"]["secret_key"] = std::string(128, 'a');
  expect_error(bad, "does not belong");
  bad = good;
  bad["curve"].erase("secret_key");
  expect_error(bad, "secret_key is missing");
  bad = good;
  bad["agent_0"] = true;
  expect_error(bad, "agent_0");
  bad = good;
  bad["subnet"] = "10.0.0.0/40";
  expect_error(bad, "subnet");
  bad = good;
  bad["format_version"] = 2;
  expect_error(bad, "format_version");
  // A config copied under another name.
  testing::WriteFile(project_.Join("agents/agent-other.json"), good.dump());
  auto renamed = ReadAgentConfig(project_.path(), "agent-other");
  ASSERT_FALSE(renamed.ok());
  EXPECT_NE(renamed.status().message().find("not the file's name"), std::string::npos);
}

TEST_F(AgentProject, UnknownAgentsSayHowToListThem) {
  auto missing = ReadAgentConfig(project_.path(), "agent-nobody");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("cloudbook-agent list"), std::string::npos);
  EXPECT_FALSE(ReadAgentConfig(project_.path(), "../escape").ok());
}

TEST_F(AgentProject, OnlyOneAgentZeroPerProject) {
  EXPECT_EQ(CreateOrDie(Grant::kHigh, true), "agent-0");
  std::string id;
  const CommandOutcome second = Create(Grant::kLow, true, &id);
  EXPECT_EQ(second.exit_code(), kExitInvalidInput);
  EXPECT_NE(second.message().find("already exists"), std::string::npos) << second.message();
  // Ordinary agents are still fine.
  EXPECT_NE(CreateOrDie(Grant::kLow), "agent-0");
}

TEST_F(AgentProject, AgentZeroAnnouncedByAnotherMachineBlocksCreation) {
  auto keys = GenerateSigningKeyPair();
  Announcement remote;
  remote.id = "agent-0";
  remote.grant = Grant::kHigh;
  remote.host = "workstation";
  remote.endpoint = "tcp://10.0.0.2:5550";
  remote.curve_public_key = GenerateCurveKeyPair()->public_key;
  remote.signing_public_key = keys->public_key;
  remote.sequence = 1;
  remote.time_ms = UnixTimeMs();
  remote.pid = 42;
  ASSERT_TRUE(WriteAnnouncement(project_.Join("distributed"), remote, keys->secret_key).ok());
  std::string id;
  const CommandOutcome outcome = Create(Grant::kHigh, true, &id);
  EXPECT_EQ(outcome.exit_code(), kExitInvalidInput);
  EXPECT_NE(outcome.message().find("another machine"), std::string::npos) << outcome.message();
  EXPECT_NE(outcome.message().find("workstation"), std::string::npos) << outcome.message();
  EXPECT_FALSE(fs::exists(project_.Join("agents/agent-0.json")));
}

TEST_F(AgentProject, CreateChecksItsOptions) {
  CreateOptions options;
  options.project_folder = project_.path();
  options.grant = Grant::kLow;
  options.device = DeviceChoice::kCuda;
  std::string id;
  EXPECT_EQ(CreateAgent(options, &id).exit_code(), kExitInvalidInput);
  options.device = DeviceChoice::kAuto;
  options.subnet = "ten/8";
  EXPECT_EQ(CreateAgent(options, &id).exit_code(), kExitInvalidInput);
  options.subnet = "";
  options.bind_address = "somewhere";
  EXPECT_EQ(CreateAgent(options, &id).exit_code(), kExitInvalidInput);
  options.bind_address = "auto";
  options.project_folder = project_.Join("missing");
  const CommandOutcome missing = CreateAgent(options, &id);
  EXPECT_EQ(missing.exit_code(), kExitInvalidInput);
  EXPECT_NE(missing.message().find("does not exist"), std::string::npos);
  EXPECT_FALSE(fs::exists(project_.Join("agents")));
}

TEST_F(AgentProject, EditRewritesTheConfigOfAStoppedAgent) {
  const std::string id = CreateOrDie(Grant::kLow);
  const Json before = ToJson(*ReadAgentConfig(project_.path(), id));
  EditOptions edit;
  edit.project_folder = project_.path();
  edit.agent_id = id;
  edit.grant = Grant::kHigh;
  edit.base_port = 7000;
  std::string note;
  const CommandOutcome outcome = EditAgent(edit, &note);
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_NE(note.find("not running"), std::string::npos) << note;
  auto after = ReadAgentConfig(project_.path(), id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->grant, Grant::kHigh);
  EXPECT_EQ(after->base_port, 7000);
  EXPECT_EQ(after->signing.secret_key, before["signing"]["secret_key"]);
  EXPECT_EQ(FileMode(ProjectLayout(project_.path()).agent_config_file(id)), 0600);

  edit.grant = Grant::kLow;
  edit.device = DeviceChoice::kCuda;  // LOW cannot use the GPU
  EXPECT_EQ(EditAgent(edit, &note).exit_code(), kExitInvalidInput);
  EXPECT_EQ(ReadAgentConfig(project_.path(), id)->grant, Grant::kHigh);  // unchanged
  edit.agent_id = "agent-nobody";
  EXPECT_EQ(EditAgent(edit, &note).exit_code(), kExitInvalidInput);
}

TEST_F(AgentProject, DeleteRefusesARunningAgentAndRemovesItsFilesOtherwise) {
  const std::string id = CreateOrDie(Grant::kLow);
  auto config = ReadAgentConfig(project_.path(), id);
  Announcement own;
  own.id = id;
  own.grant = Grant::kLow;
  own.host = "here";
  own.endpoint = "tcp://127.0.0.1:5550";
  own.curve_public_key = config->curve.public_key;
  own.signing_public_key = config->signing.public_key;
  own.sequence = 3;
  own.time_ms = UnixTimeMs();
  own.pid = 1;
  ASSERT_TRUE(WriteAnnouncement(config->shared_folder, own, config->signing.secret_key).ok());
  testing::WriteFile(SharedFolderLayout(config->shared_folder).stats_file(id), "{}");

  {  // "running": this test process holds the agent's pid-file lock
    auto lock = AcquirePidFile(ProjectLayout(project_.path()).agent_pid_file(id));
    ASSERT_TRUE(lock.ok() && lock->lock);
    const CommandOutcome refused = DeleteAgent(project_.path(), id);
    EXPECT_EQ(refused.exit_code(), kExitConflict);
    EXPECT_NE(refused.message().find("is running"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("cloudbook-agent stop"), std::string::npos);
    EXPECT_TRUE(fs::exists(ProjectLayout(project_.path()).agent_config_file(id)));
  }
  const CommandOutcome deleted = DeleteAgent(project_.path(), id);
  ASSERT_TRUE(deleted.ok()) << deleted.message();
  EXPECT_FALSE(fs::exists(ProjectLayout(project_.path()).agent_config_file(id)));
  EXPECT_FALSE(fs::exists(SharedFolderLayout(config->shared_folder).announcement_file(id)));
  EXPECT_FALSE(fs::exists(SharedFolderLayout(config->shared_folder).stats_file(id)));
  EXPECT_EQ(DeleteAgent(project_.path(), id).exit_code(), kExitInvalidInput);
}

TEST_F(AgentProject, DeleteLeavesAnAnnouncementSignedByAnotherKey) {
  const std::string id = CreateOrDie(Grant::kLow);
  auto stranger = GenerateSigningKeyPair();
  Announcement other;
  other.id = id;
  other.grant = Grant::kLow;
  other.host = "elsewhere";
  other.endpoint = "tcp://10.1.1.1:5550";
  other.curve_public_key = GenerateCurveKeyPair()->public_key;
  other.signing_public_key = stranger->public_key;
  other.sequence = 1;
  other.pid = 7;
  ASSERT_TRUE(WriteAnnouncement(project_.Join("distributed"), other, stranger->secret_key).ok());
  ASSERT_TRUE(DeleteAgent(project_.path(), id).ok());
  EXPECT_TRUE(fs::exists(SharedFolderLayout(project_.Join("distributed")).announcement_file(id)));
}

TEST_F(AgentProject, StopOfAnAgentThatIsNotRunningIsAStateError) {
  const std::string id = CreateOrDie(Grant::kLow);
  const CommandOutcome outcome = StopAgent(project_.path(), id, 1);
  EXPECT_EQ(outcome.exit_code(), kExitConflict);
  EXPECT_NE(outcome.message().find("not running"), std::string::npos);
  EXPECT_EQ(StopAgent(project_.path(), "agent-nobody", 1).exit_code(), kExitInvalidInput);
}

TEST(PidFile, TheLockTellsWhetherAnAgentRuns) {
  ScratchDir dir;
  const std::string path = dir.Join("agents/a.pid");
  auto state = ReadPidFileState(path);
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(state->running);
  {
    auto first = AcquirePidFile(path);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_TRUE(first->lock.has_value());
    EXPECT_EQ(testing::ReadFileOrDie(path), std::to_string(::getpid()) + "\n");
    auto running = ReadPidFileState(path);
    ASSERT_TRUE(running.ok());
    EXPECT_TRUE(running->running);
    EXPECT_EQ(running->pid, ::getpid());
    auto second = AcquirePidFile(path);  // another open file description: refused
    ASSERT_TRUE(second.ok());
    EXPECT_FALSE(second->lock.has_value());
    EXPECT_EQ(second->holder_pid, ::getpid());
  }  // the lock's destructor removes the file
  EXPECT_FALSE(fs::exists(path));
  // A file left by a crashed agent (no lock) does not count as running.
  testing::WriteFile(path, "999999\n");
  EXPECT_FALSE(ReadPidFileState(path)->running);
  auto again = AcquirePidFile(path);
  ASSERT_TRUE(again.ok() && again->lock.has_value());
}

TEST(HostAddress, ParsesSubnets) {
  auto subnet = ParseIpv4Network("10.0.0.7/24");
  ASSERT_TRUE(subnet.ok());
  EXPECT_EQ(subnet->prefix, 24);
  EXPECT_TRUE(InIpv4Network("10.0.0.200", *subnet));
  EXPECT_FALSE(InIpv4Network("10.0.1.1", *subnet));
  EXPECT_TRUE(InIpv4Network("8.8.8.8", *ParseIpv4Network("0.0.0.0/0")));
  EXPECT_TRUE(InIpv4Network("192.168.1.5", *ParseIpv4Network("192.168.1.5/32")));
  for (const std::string bad : {"10.0.0.0", "10.0.0.0/33", "10.0.0/24", "x/8", "10.0.0.0/", "/8",
                                "10.0.0.0/-1", "10.0.0.0/2a"}) {
    EXPECT_FALSE(ParseIpv4Network(bad).ok()) << bad;
  }
}

TEST(HostAddress, ChoosesAReachableAddress) {
  const std::vector<InterfaceAddress> candidates = {
      {"docker0", "172.17.0.1"}, {"eth0", "192.168.1.20"}, {"eth1", "10.0.0.5"}};
  auto by_subnet = ChooseAddress(candidates, *ParseIpv4Network("10.0.0.0/24"), "192.168.1.20");
  EXPECT_EQ(by_subnet.address, "10.0.0.5");
  EXPECT_FALSE(by_subnet.network_unmatched);
  auto by_route = ChooseAddress(candidates, std::nullopt, "192.168.1.20");
  EXPECT_EQ(by_route.address, "192.168.1.20");
  auto unmatched = ChooseAddress(candidates, *ParseIpv4Network("10.9.0.0/16"), "192.168.1.20");
  EXPECT_EQ(unmatched.address, "192.168.1.20");
  EXPECT_TRUE(unmatched.network_unmatched);
  EXPECT_NE(unmatched.reason.find("10.0.0.5"), std::string::npos) << unmatched.reason;
  auto first = ChooseAddress(candidates, std::nullopt, "");
  EXPECT_EQ(first.address, "172.17.0.1");
  EXPECT_NE(first.reason.find("--subnet"), std::string::npos);
  auto none = ChooseAddress({}, std::nullopt, "");
  EXPECT_EQ(none.address, "127.0.0.1");
  EXPECT_TRUE(none.loopback_fallback);
  // On this machine: some IPv4 address, whatever the interfaces.
  auto here = ChoosePublishedAddress("");
  ASSERT_TRUE(here.ok());
  uint32_t parsed = 0;
  EXPECT_TRUE(ParseIpv4(here->address, &parsed)) << here->address;
}

TEST(PortReservation, TakesTheFirstFreePortAndHoldsIt) {
  const int base = 20000 + static_cast<int>(::getpid() % 20000);
  auto first = ReservePort("127.0.0.1", 0, base);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = ReservePort("127.0.0.1", 0, first->port());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GT(second->port(), first->port());
  auto fixed = ReservePort("127.0.0.1", first->port(), 0);
  ASSERT_FALSE(fixed.ok());
  EXPECT_NE(fixed.status().message().find(std::to_string(first->port())), std::string::npos);
  const int port = first->port();
  first->Release();
  EXPECT_EQ(first->fd(), -1);
  auto reused = ReservePort("127.0.0.1", port, 0);
  EXPECT_TRUE(reused.ok()) << reused.status().ToString();
  EXPECT_FALSE(ReservePort("not-an-ip", 0, base).ok());
}

}  // namespace
}  // namespace cloudbook
