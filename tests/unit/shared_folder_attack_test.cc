// The shared folder as an attack surface (issue 7): every file the runtime reads from it,
// planted truncated, oversized, of the wrong type or version, as a symlink out of the project,
// as a folder or a FIFO, is refused or ignored with a reason; nothing crashes, hangs or reads
// through the link. DU files asking for absurd sizes are refused before any allocation.
// Suite names start with "fault_" so that `ctest -R fault` runs them with the other fault
// suites.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>

#include "dashboard/dashboard_registry.h"
#include "dashboard/run_catalog.h"
#include "deployer/peer_reports.h"
#include "maker/maker.h"
#include "shared/atomic_file.h"
#include "shared/data/csv_reader.h"
#include "shared/data/idx_reader.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/agent_keys.h"
#include "shared/formats/announcement.h"
#include "shared/formats/assignment.h"
#include "shared/formats/curve_keys.h"
#include "shared/formats/project_config.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"
#include "shared/subnet_spec.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::ScratchDir;
using testing::WriteFile;

// The ways a file in the shared folder can be hostile. Each replaces whatever is at `path`.
enum class Hostile {
  kEmpty,
  kTruncated,           // the first half of a valid file (a torn copy)
  kGarbage,             // not JSON
  kWrongType,           // valid JSON of the wrong shape
  kOversized,           // a sparse file over every reader's limit
  kSymlinkOut,          // a link to /etc/passwd
  kSymlinkToValidCopy,  // a link to a valid file outside the project: still not followed
  kFolder,
  kFifo,  // would block a plain open() forever
};

const std::vector<Hostile> kAllHostile = {Hostile::kEmpty,
                                          Hostile::kTruncated,
                                          Hostile::kGarbage,
                                          Hostile::kWrongType,
                                          Hostile::kOversized,
                                          Hostile::kSymlinkOut,
                                          Hostile::kSymlinkToValidCopy,
                                          Hostile::kFolder,
                                          Hostile::kFifo};

std::string Name(Hostile kind) {
  switch (kind) {
    case Hostile::kEmpty:
      return "empty";
    case Hostile::kTruncated:
      return "truncated";
    case Hostile::kGarbage:
      return "garbage";
    case Hostile::kWrongType:
      return "wrong type";
    case Hostile::kOversized:
      return "oversized";
    case Hostile::kSymlinkOut:
      return "symlink to /etc/passwd";
    case Hostile::kSymlinkToValidCopy:
      return "symlink to a valid copy outside";
    case Hostile::kFolder:
      return "folder";
    case Hostile::kFifo:
      return "fifo";
  }
  return "?";
}

// Replaces `path` (holding a valid file) by the hostile variant; `outside` is a folder
// outside the project for link targets.
void Plant(Hostile kind, const std::string& path, const std::string& outside) {
  const std::string valid = testing::ReadFileOrDie(path);
  ASSERT_EQ(::unlink(path.c_str()), 0) << path;
  switch (kind) {
    case Hostile::kEmpty:
      WriteFile(path, "");
      break;
    case Hostile::kTruncated:
      WriteFile(path, valid.substr(0, valid.size() / 2));
      break;
    case Hostile::kGarbage:
      WriteFile(path, "\x01\xff{not json at all");
      break;
    case Hostile::kWrongType:
      WriteFile(path, "[1, \"two\", {\"three\": null}]");
      break;
    case Hostile::kOversized:
      WriteFile(path, "{");
      ASSERT_EQ(::truncate(path.c_str(), off_t{1} << 36), 0);  // 64 GiB, sparse
      break;
    case Hostile::kSymlinkOut:
      ASSERT_EQ(::symlink("/etc/passwd", path.c_str()), 0);
      break;
    case Hostile::kSymlinkToValidCopy: {
      const std::string copy = outside + "/copy-" + std::to_string(::getpid()) + ".json";
      WriteFile(copy, valid);
      ASSERT_EQ(::symlink(copy.c_str(), path.c_str()), 0);
      break;
    }
    case Hostile::kFolder:
      ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
      break;
    case Hostile::kFifo:
      ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
      break;
  }
}

// Removes whatever Plant left, so the next variant starts from a valid file again (same
// mode: agent configs must stay private).
void Restore(const std::string& path, const std::string& valid, mode_t mode) {
  ::rmdir(path.c_str());
  ::unlink(path.c_str());
  WriteFile(path, valid);
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

// For each hostile variant of `path`: `refused` must say the reader refused it (and why).
// `refused` returns the reason, or "" when the reader accepted the file.
void ExpectEveryVariantRefused(const std::string& path, const std::string& outside,
                               const std::function<std::string()>& refused,
                               const std::vector<Hostile>& kinds = kAllHostile) {
  ASSERT_EQ(refused(), "") << "the valid file must be accepted first: " << path;
  const std::string valid = testing::ReadFileOrDie(path);
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  for (Hostile kind : kinds) {
    SCOPED_TRACE(path + " as " + Name(kind));
    Plant(kind, path, outside);
    const std::string reason = refused();
    EXPECT_NE(reason, "") << "accepted";
    EXPECT_EQ(reason.find("root:"), std::string::npos) << "read through the link: " << reason;
    Restore(path, valid, info.st_mode & 07777);
  }
  EXPECT_EQ(refused(), "") << "a valid file again is accepted again";
}

std::string Reason(const Status& status) { return status.ok() ? "" : status.message(); }

class SharedFolderFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    layout_ = ProjectLayout(project_.path());
    ASSERT_TRUE(MakeFolders(layout_.shared_folder()).ok());
  }
  ScratchDir project_;
  ScratchDir outside_;
  ProjectLayout layout_{""};
};

// ---- DU files ------------------------------------------------------------------------------

SubnetSpec ValidSubnet(int index) {
  SubnetSpec subnet;
  subnet.index = index;
  subnet.model.input_shape = {784};
  LayerSpec hidden;
  hidden.type = "dense";
  hidden.numbers["units"] = {NumberOrVar{64, ""}};
  hidden.words["activation"] = "relu";
  LayerSpec output;
  output.type = "dense";
  output.numbers["units"] = {NumberOrVar{5, ""}};
  subnet.model.layers = {hidden, output};
  subnet.train.optimizer = "sgd";
  subnet.train.learning_rate = 0.05;
  subnet.train.loss = "sparse_categorical_crossentropy";
  subnet.train.batch_size = 32;
  subnet.train.epochs = NumberOrVar{2, ""};
  subnet.epochs = 2;
  subnet.widths = {{"_NEURON_1", 64}};
  subnet.classes = {0, 1, 2, 3, 4};
  return subnet;
}

DuSpec ValidDu(int index) {
  DuSpec du;
  du.index = index;
  du.main_program = index == 0;
  du.program.name = "fault";
  du.program.problem = ProblemType::kMulticlass;
  du.program.data.train.x = {"idx", "x.idx", 255.0, {}, true, ',', {}, {}};
  du.program.data.train.y = {"idx", "y.idx", 1.0, {}, true, ',', {}, {}};
  du.program.num_classes = 10;
  du.program.k = 2;
  du.program.groups = 2;
  du.program.factor = 1;
  du.subnets = {ValidSubnet(index)};
  du.generation = "gen-1";
  return du;
}

std::string DuReason(const Json& json) {
  return Reason(DuSpecFromJson(json, "du_files/du_1.json").status());
}

// A DU's subnet JSON, edited by `edit`.
std::string EditedSubnetReason(const std::function<void(Json&)>& edit) {
  Json json = ToJson(ValidDu(1));
  edit(json["subnets"][0]);
  return DuReason(json);
}

TEST(fault_DuFile, AValidDuIsAccepted) { EXPECT_EQ(DuReason(ToJson(ValidDu(1))), ""); }

TEST(fault_DuFile, HugeDenseWidthIsRefusedBeforeAllocating) {
  const std::string reason = EditedSubnetReason(
      [](Json& subnet) { subnet["model"]["layers"][0]["numbers"]["units"] = {1 << 24}; });
  EXPECT_NE(reason.find("parameters, over the limit"), std::string::npos) << reason;
  EXPECT_NE(reason.find("du_files/du_1.json"), std::string::npos) << "names the file";
}

TEST(fault_DuFile, NumbersBeyondAnyCastAreRefused) {
  for (const Json& units : {Json(1e300), Json(-1e300), Json(9.3e18), Json(1e12)}) {
    const std::string reason = EditedSubnetReason(
        [&](Json& subnet) { subnet["model"]["layers"][0]["numbers"]["units"] = {units}; });
    EXPECT_NE(reason.find("is not a number in"), std::string::npos) << units << ": " << reason;
  }
}

TEST(fault_DuFile, ReshapesWhoseProductOverflowsAreRefused) {
  const std::string reason = EditedSubnetReason([](Json& subnet) {
    subnet["model"]["layers"].insert(subnet["model"]["layers"].begin(),
                                     Json{{"type", "reshape"},
                                          {"numbers", {{"shape", {1 << 24, 1 << 24, 1 << 24, -1}}}},
                                          {"words", Json::object()}});
  });
  EXPECT_NE(reason, "");
}

TEST(fault_DuFile, HugeConvolutionIsRefused) {
  const std::string reason = EditedSubnetReason([](Json& subnet) {
    auto& layers = subnet["model"]["layers"];
    layers.insert(
        layers.begin(),
        {Json{
             {"type", "reshape"}, {"numbers", {{"shape", {28, 28, 1}}}}, {"words", Json::object()}},
         Json{{"type", "conv2d"},
              {"numbers", {{"filters", {1 << 24}}, {"kernel", {1 << 12, 1 << 12}}}},
              {"words", {{"padding", "same"}}}},
         Json{{"type", "flatten"}, {"numbers", Json::object()}, {"words", Json::object()}}});
  });
  EXPECT_NE(reason, "");
}

TEST(fault_DuFile, HugeInputShapeIsRefused) {
  const std::string reason = EditedSubnetReason([](Json& subnet) {
    subnet["model"]["input"] = {1 << 20, 1 << 20};
  });
  EXPECT_NE(reason.find("values per sample"), std::string::npos) << reason;
}

TEST(fault_DuFile, HugeNumClassesIsRefused) {
  Json json = ToJson(ValidDu(1));
  json["program"]["num_classes"] = int64_t{1} << 40;
  EXPECT_NE(DuReason(json).find("num_classes out of range"), std::string::npos) << DuReason(json);
  json["program"]["num_classes"] = kMaxDuOutputs + 1;
  EXPECT_NE(DuReason(json), "");
}

TEST(fault_DuFile, HugeBatchSizeIsRefused) {
  for (const int64_t batch : {int64_t{1} << 40, int64_t{0}, int64_t{-5}, kMaxBatchSize + 1}) {
    const std::string reason =
        EditedSubnetReason([&](Json& subnet) { subnet["train"]["batch_size"] = batch; });
    EXPECT_NE(reason.find("batch_size"), std::string::npos) << batch << ": " << reason;
  }
}

TEST(fault_DuFile, BatchTimesWidestActivationIsBounded) {
  // Each alone is in range; together a batch of activations would be 64 GiB.
  const std::string reason = EditedSubnetReason([](Json& subnet) {
    subnet["model"]["input"] = {1 << 22};
    subnet["model"]["layers"][0] = {
        {"type", "dropout"}, {"numbers", {{"rate", {0.1}}}}, {"words", Json::object()}};
    subnet["model"]["layers"][1]["numbers"]["units"] = {5};
    subnet["train"]["batch_size"] = kMaxBatchSize;
  });
  EXPECT_NE(reason.find("values per sample is over the limit"), std::string::npos) << reason;
}

// Attention holds heads x steps x steps scores per sample that no layer outputs: a DU asking
// for attention over a long sequence is refused before a batch of scores is allocated.
TEST(fault_DuFile, AttentionScoresOverLongSequencesAreBounded) {
  const std::string reason = EditedSubnetReason([](Json& subnet) {
    subnet["model"]["input"] = {1 << 16, 4};
    subnet["model"]["layers"].insert(
        subnet["model"]["layers"].begin(),
        {Json{{"type", "multihead_attention"},
              {"numbers", {{"heads", {64}}, {"key_dim", {2}}}},
              {"words", Json::object()}},
         Json{{"type", "flatten"}, {"numbers", Json::object()}, {"words", Json::object()}}});
  });
  EXPECT_NE(reason.find("values per sample"), std::string::npos) << reason;
}

// The DAG words of a DU file refer to earlier layers only.
TEST(fault_DuFile, ForgedLayerInputsAreRefused) {
  for (const Json& inputs : {Json({"nowhere"}), Json({"previous", "previous", "later"}),
                             Json(std::vector<std::string>(100, "previous"))}) {
    const std::string reason = EditedSubnetReason([&](Json& subnet) {
      subnet["model"]["layers"][1]["inputs"] = inputs;
      subnet["model"]["layers"][1]["type"] = "add";
    });
    EXPECT_NE(reason, "") << inputs;
  }
}

TEST(fault_DuFile, AbsurdEpochsAreRefused) {
  for (const Json& epochs : {Json(int64_t{1} << 50), Json(0), Json(-1), Json("many")}) {
    const std::string reason = EditedSubnetReason([&](Json& subnet) { subnet["epochs"] = epochs; });
    EXPECT_NE(reason, "") << epochs;
  }
}

TEST(fault_DuFile, EnormousLayerListIsRefused) {
  const std::string reason = EditedSubnetReason([](Json& subnet) {
    Json& layers = subnet["model"]["layers"];
    const Json dropout = {
        {"type", "dropout"}, {"numbers", {{"rate", {0.1}}}}, {"words", Json::object()}};
    for (size_t i = 0; i < kMaxDuLayers; ++i) layers.insert(layers.begin(), dropout);
  });
  EXPECT_NE(reason.find("layers, over the limit"), std::string::npos) << reason;
}

TEST(fault_DuFile, TooManySubnetsAndBadRatesAreRefused) {
  Json json = ToJson(ValidDu(1));
  json["program"]["k"] = kMaxDuSubnets + 1;
  EXPECT_NE(DuReason(json), "");
  json = ToJson(ValidDu(1));
  json["program"]["k"] = 1;
  json["subnets"].push_back(json["subnets"][0]);
  EXPECT_NE(DuReason(json).find("more subnets than program.k"), std::string::npos);
  EXPECT_NE(EditedSubnetReason([](Json& subnet) { subnet["train"]["learning_rate"] = -1; }), "");
  EXPECT_NE(EditedSubnetReason([](Json& subnet) { subnet["widths"]["_NEURON_1"] = 1LL << 40; }),
            "");
  EXPECT_NE(EditedSubnetReason([](Json& subnet) {
              subnet["model"]["layers"][0]["numbers"]["units"] = {"_NEURON_1"};
            }),
            "")
      << "an unresolved variable";
}

TEST(fault_DuFile, WrongVersionAndWrongTypesAreRefused) {
  Json json = ToJson(ValidDu(1));
  json["format_version"] = 99;
  EXPECT_NE(DuReason(json).find("DU format version 99"), std::string::npos);
  for (const Json& wrong : {Json::array(), Json("du"), Json(nullptr), Json(3.5)}) {
    EXPECT_NE(DuReason(wrong), "") << wrong;
  }
  json = ToJson(ValidDu(1));
  json["subnets"] = "all of them";
  EXPECT_NE(DuReason(json), "");
}

class fault_DuFiles : public SharedFolderFiles {
 protected:
  void SetUp() override {
    SharedFolderFiles::SetUp();
    WriteFile(layout_.du_list_file(),
              Json{{"generation", "gen-1"}, {"dus", {{{"index", 0}}, {{"index", 1}}}}}.dump());
    WriteFile(layout_.du_file(0), ToJson(ValidDu(0)).dump(2));
    WriteFile(layout_.du_file(1), ToJson(ValidDu(1)).dump(2));
  }
  std::string ReadReason() { return Reason(ReadDuSpecs(layout_).status()); }
};

TEST_F(fault_DuFiles, EveryHostileDuListIsRefused) {
  ExpectEveryVariantRefused(layout_.du_list_file(), outside_.path(), [&] { return ReadReason(); });
}

TEST_F(fault_DuFiles, EveryHostileDuFileIsRefused) {
  ExpectEveryVariantRefused(layout_.du_file(1), outside_.path(), [&] { return ReadReason(); });
}

TEST_F(fault_DuFiles, AMemoryBombDuFileIsRefusedNamingIt) {
  Json bomb = ToJson(ValidDu(1));
  bomb["subnets"][0]["model"]["layers"][0]["numbers"]["units"] = {1 << 23};
  WriteFile(layout_.du_file(1), bomb.dump());
  const std::string reason = ReadReason();
  EXPECT_NE(reason.find("du_1.json"), std::string::npos) << reason;
  EXPECT_NE(reason.find("over the limit"), std::string::npos) << reason;
}

TEST_F(fault_DuFiles, AnIndexOutsideTheListIsRefused) {
  WriteFile(layout_.du_list_file(),
            Json{{"generation", "gen-1"}, {"dus", {{{"index", 0}}, {{"index", -3}}}}}.dump());
  EXPECT_NE(ReadReason(), "");
  WriteFile(layout_.du_list_file(),
            Json{{"generation", "gen-1"}, {"dus", {{{"index", 0}}, {{"index", "../x"}}}}}.dump());
  EXPECT_NE(ReadReason(), "");
}

TEST_F(fault_DuFiles, ASymlinkedDuFolderIsNotReadThrough) {
  // distributed/du_files -> a folder outside holding valid DUs of another project.
  const std::string elsewhere = outside_.Join("other_du_files");
  WriteFile(elsewhere + "/du_0.json", ToJson(ValidDu(0)).dump());
  WriteFile(elsewhere + "/du_1.json", ToJson(ValidDu(1)).dump());
  ASSERT_EQ(::system(("rm -rf '" + layout_.du_files() + "'").c_str()), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), layout_.du_files().c_str()), 0);
  EXPECT_NE(ReadReason(), "");
}

// ---- config.json, assignment.json, project.json, P/agents/<id>.json --------------------------

TEST_F(SharedFolderFiles, fault_EveryHostileConfigJsonIsRefused) {
  ASSERT_TRUE(EnsureProjectConfig(layout_.config_file()).ok());
  ExpectEveryVariantRefused(layout_.config_file(), outside_.path(), [&] {
    return Reason(ReadProjectConfig(layout_.config_file()).status());
  });
}

TEST_F(SharedFolderFiles, fault_ConfigJsonWithAbsurdValuesIsRefused) {
  for (const Json& config :
       {Json{{"announce_interval_s", -1}}, Json{{"liveness_timeout_s", 1e308 * 10}},
        Json{{"desired_dus", int64_t{1} << 40}}, Json{{"stats_interval_s", "often"}}}) {
    WriteFile(layout_.config_file(), config.dump());
    EXPECT_NE(Reason(ReadProjectConfig(layout_.config_file()).status()), "") << config;
  }
}

Assignment ValidAssignment() {
  Assignment assignment;
  assignment.version = 3;
  assignment.generation = "gen-1";
  assignment.time_ms = 1;
  assignment.agents = {"agent-0", "agent-1"};
  assignment.dus = {{0, "agent-0", "main"}, {1, "agent-1", "balance"}};
  return assignment;
}

TEST_F(SharedFolderFiles, fault_EveryHostileAssignmentIsRefused) {
  ASSERT_TRUE(WriteAssignment(layout_.shared_folder(), ValidAssignment()).ok());
  ExpectEveryVariantRefused(layout_.assignment_file(), outside_.path(), [&] {
    return Reason(ReadAssignment(layout_.shared_folder()).status());
  });
}

TEST_F(SharedFolderFiles, fault_AssignmentWithWrongVersionOrRangesIsRefused) {
  Json json = ToJson(ValidAssignment());
  for (const auto& [key, value] : std::vector<std::pair<std::string, Json>>{
           {"format_version", 2}, {"version", -1}, {"dus", "everything"}, {"agents", {1, 2}}}) {
    Json edited = json;
    edited[key] = value;
    WriteFile(layout_.assignment_file(), edited.dump());
    EXPECT_NE(Reason(ReadAssignment(layout_.shared_folder()).status()), "") << key;
  }
  Json duplicate = json;
  duplicate["dus"].push_back(duplicate["dus"][0]);
  WriteFile(layout_.assignment_file(), duplicate.dump());
  EXPECT_NE(Reason(ReadAssignment(layout_.shared_folder()).status()), "") << "a DU owned twice";
}

TEST_F(SharedFolderFiles, fault_EveryHostileProjectJsonIsRefused) {
  WriteFile(layout_.settings_file(), Json{{"distributed_folder", layout_.shared_folder()}}.dump());
  ExpectEveryVariantRefused(layout_.settings_file(), outside_.path(),
                            [&] { return Reason(OpenProjectLayout(project_.path()).status()); });
}

TEST_F(SharedFolderFiles, fault_EveryHostileLocalAgentConfigIsRefused) {
  AgentConfig config;
  config.id = "agent-7";
  config.created = "2026-01-01T00:00:00Z";
  config.shared_folder = layout_.shared_folder();
  config.curve = GenerateCurveKeyPair().value();
  config.signing = GenerateSigningKeyPair().value();
  ASSERT_TRUE(WriteAgentConfig(project_.path(), config).ok());
  const std::string path = layout_.agents_local() + "/agent-7.json";
  ASSERT_TRUE(FileExists(path)) << "the agent config lives in " << layout_.agents_local();
  ExpectEveryVariantRefused(path, outside_.path(), [&] {
    return Reason(ReadAgentConfig(project_.path(), "agent-7").status());
  });
}

// ---- scanned folders: agents/, stats/, dashboards/, results/ and runs/ ------------------------

// Plants one hostile variant of each kind as <folder>/<stem>-<n>.json; the scan must not
// accept any of them and must not fail as a whole.
void PlantAllInFolder(const std::string& folder, const std::string& outside,
                      const std::string& valid) {
  int n = 0;
  for (Hostile kind : kAllHostile) {
    const std::string path = folder + "/hostile-" + std::to_string(n++) + ".json";
    WriteFile(path, valid);
    Plant(kind, path, outside);
  }
}

TEST_F(SharedFolderFiles, fault_HostileAnnouncementsAreIgnoredWithAReason) {
  PlantAllInFolder(layout_.announcements(), outside_.path(), "{\"id\": \"x\"}");
  const AnnouncementScan scan = ReadAnnouncements(layout_.shared_folder(), {}, false);
  EXPECT_TRUE(scan.valid.empty());
  EXPECT_EQ(scan.ignored.size(), kAllHostile.size());
  for (const IgnoredAnnouncement& ignored : scan.ignored) {
    EXPECT_NE(ignored.reason, "") << ignored.path;
  }
}

TEST_F(SharedFolderFiles, fault_ASymlinkedAgentsFolderIsNotScanned) {
  // distributed/agents -> /etc: nothing under /etc is read as an announcement.
  ASSERT_EQ(::symlink("/etc", layout_.announcements().c_str()), 0);
  const AnnouncementScan scan = ReadAnnouncements(layout_.shared_folder(), {}, false);
  EXPECT_TRUE(scan.valid.empty());
  for (const IgnoredAnnouncement& ignored : scan.ignored) {
    ADD_FAILURE() << "read through the linked folder: " << ignored.path;
  }
  EXPECT_FALSE(ListFolder(layout_.announcements()).ok()) << "listing a linked folder is refused";
}

TEST_F(SharedFolderFiles, fault_HostileStatsAreIgnoredWithAReason) {
  PlantAllInFolder(layout_.stats(), outside_.path(), "{\"id\": \"x\", \"time\": 1}");
  const PeerReportScan scan = ReadPeerReports(layout_.shared_folder());
  EXPECT_TRUE(scan.reports.empty());
  EXPECT_EQ(scan.ignored.size(), kAllHostile.size());
  for (const IgnoredStatsFile& ignored : scan.ignored)
    EXPECT_NE(ignored.reason, "") << ignored.path;
}

TEST_F(SharedFolderFiles, fault_ASymlinkedStatsFolderIsNotScanned) {
  ASSERT_EQ(::symlink("/etc", layout_.stats().c_str()), 0);
  const PeerReportScan scan = ReadPeerReports(layout_.shared_folder());
  EXPECT_TRUE(scan.reports.empty());
  ASSERT_EQ(scan.ignored.size(), 1u) << "the folder itself, once";
  EXPECT_NE(scan.ignored[0].reason.find("symlink"), std::string::npos) << scan.ignored[0].reason;
}

TEST_F(SharedFolderFiles, fault_HostileDashboardFilesAreSkipped) {
  PlantAllInFolder(layout_.dashboards(), outside_.path(),
                   "{\"host\": \"x\", \"url\": \"http://127.0.0.1:1\", \"time\": 1}");
  const Json listed = ListDashboards(layout_, "me", 2, {});
  EXPECT_TRUE(listed.is_array());
  EXPECT_TRUE(listed.empty()) << listed.dump();
}

TEST_F(SharedFolderFiles, fault_HostileRunFilesAreSkipped) {
  PlantAllInFolder(layout_.results(), outside_.path(), "{\"run\": \"x\"}");
  PlantAllInFolder(layout_.runs(), outside_.path(), "{\"run\": \"x\"}");
  RunCatalog catalog(layout_);
  const Json runs = catalog.List(1);
  EXPECT_TRUE(runs.is_array());
  for (const Json& run : runs) EXPECT_EQ(run.dump().find("root:"), std::string::npos);
  EXPECT_FALSE(catalog.Detail("hostile-5", 1).ok()) << "a symlinked run is not read";
}

// ---- data files: headers claiming huge sizes ---------------------------------------------------

TEST_F(SharedFolderFiles, fault_IdxHeaderClaimingHugeDimensionsIsRefused) {
  // ubyte, 3 dimensions: 2^31-1 images of 65535 x 65535, and 16 bytes of data.
  std::string header = {0, 0, 0x08, 3};
  for (uint32_t size : {0x7fffffffu, 0xffffu, 0xffffu}) {
    for (int shift = 24; shift >= 0; shift -= 8) header.push_back(char((size >> shift) & 0xff));
  }
  const std::string path = layout_.working_dir() + "/huge-images-idx3-ubyte";
  WriteFile(path, header + std::string(16, '\x7f'));
  const Result<Array> read = ReadIdxFile(path);
  EXPECT_FALSE(read.ok());
}

TEST_F(SharedFolderFiles, fault_CsvWithAHugeClaimedRowIsBounded) {
  const std::string path = layout_.working_dir() + "/wide.csv";
  WriteFile(path, "a,b\n1,2\n" + std::string(1 << 20, '9') + ",1e999999\n");
  const Result<Array> read = ReadCsvFile(path);  // must return, whatever it decides
  if (read.ok()) {
    EXPECT_LE(read->values.size(), 4u);
  }
}

}  // namespace
}  // namespace cloudbook
