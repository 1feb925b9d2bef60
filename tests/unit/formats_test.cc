// The small formats every component shares: seeded randomness that is the same on every
// machine, atomic whole-file writes, the deployable-unit JSON and distributed/config.json.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "shared/atomic_file.h"
#include "shared/formats/project_config.h"
#include "shared/json_io.h"
#include "shared/seeded_random.h"
#include "shared/subnet_spec.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::ReadFileOrDie;
using testing::ScratchDir;
using testing::WriteFile;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The names in a folder, sorted (hidden files included).
std::vector<std::string> ListFolder(const std::string& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// ---- SeededRandom ---------------------------------------------------------------------

TEST(SeededRandom, IsSplitMix64) {
  // Reference outputs of Vigna's splitmix64: the same numbers on every platform.
  SeededRandom zero(0);
  EXPECT_EQ(zero.Next(), UINT64_C(0xE220A8397B1DCDAF));
  SeededRandom reference(1234567);
  EXPECT_EQ(reference.Next(), UINT64_C(6457827717110365317));
  EXPECT_EQ(reference.Next(), UINT64_C(3203168211198807973));
}

TEST(SeededRandom, SameSeedSameSequence) {
  SeededRandom a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    ASSERT_EQ(x, b.Next()) << "draw " << i;
    differs = differs || x != c.Next();
  }
  EXPECT_TRUE(differs) << "seed 43 must give another sequence";
}

TEST(SeededRandom, BelowStaysInRange) {
  SeededRandom random(7);
  for (uint64_t bound : {UINT64_C(1), UINT64_C(2), UINT64_C(3), UINT64_C(10), UINT64_C(1000),
                         (UINT64_C(1) << 63) + 1, UINT64_MAX}) {
    for (int i = 0; i < 1000; ++i) ASSERT_LT(random.Below(bound), bound) << "bound " << bound;
  }
  // Small bounds reach every value.
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(random.Below(6));
  EXPECT_EQ(seen.size(), 6u);
}

TEST(SeededRandom, PermutationAndShuffleAreDeterministic) {
  const std::vector<int64_t> first = SeededRandom(5).Permutation(100);
  EXPECT_EQ(first, SeededRandom(5).Permutation(100));
  EXPECT_NE(first, SeededRandom(6).Permutation(100));
  std::vector<int64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i) ASSERT_EQ(sorted[static_cast<size_t>(i)], i);

  std::vector<int64_t> items = {10, 20, 30, 40, 50};
  std::vector<int64_t> again = items;
  SeededRandom(9).Shuffle(items);
  SeededRandom(9).Shuffle(again);
  EXPECT_EQ(items, again);
  EXPECT_TRUE(SeededRandom(1).Permutation(0).empty());
}

TEST(SeededRandom, DeriveGivesIndependentStreams) {
  std::set<uint64_t> seeds;
  for (uint64_t stream = 0; stream < 100; ++stream) {
    seeds.insert(SeededRandom::Derive(42, stream));
    EXPECT_EQ(SeededRandom::Derive(42, stream), SeededRandom::Derive(42, stream));
  }
  EXPECT_EQ(seeds.size(), 100u) << "every stream its own seed";
  EXPECT_NE(SeededRandom::Derive(42, 0), SeededRandom::Derive(43, 0));
}

// ---- Atomic files ---------------------------------------------------------------------

TEST(AtomicFile, WritesReplacesAndLeavesNoTemporaryFiles) {
  ScratchDir dir;
  const std::string path = dir.Join("state.json");
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  EXPECT_EQ(ReadFileOrDie(path), "first");
  const Status replaced = WriteFileAtomically(path, "second, longer");
  ASSERT_TRUE(replaced.ok()) << replaced.ToString();
  EXPECT_EQ(ReadFileOrDie(path), "second, longer");
  ASSERT_TRUE(WriteFileAtomically(path, "").ok()) << "an empty file is a valid content";
  EXPECT_EQ(ReadFileOrDie(path), "");
  EXPECT_EQ(ListFolder(dir.path()), (std::vector<std::string>{"state.json"}))
      << "no .state.json.tmp-* left behind";
}

TEST(AtomicFile, KeepsBinaryContentsExactly) {
  ScratchDir dir;
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += std::string(100000, 'x');
  ASSERT_TRUE(WriteFileAtomically(dir.Join("blob"), bytes).ok());
  const Result<std::string> read = ReadWholeFile(dir.Join("blob"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, bytes);
}

TEST(AtomicFile, CreatesParentFolders) {
  ScratchDir dir;
  const std::string path = dir.Join("a/b/c/file.txt");
  const Status status = WriteFileAtomically(path, "deep");
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(ReadFileOrDie(path), "deep");
  EXPECT_EQ(ListFolder(dir.Join("a/b/c")), (std::vector<std::string>{"file.txt"}));
}

TEST(AtomicFile, FailureIsAnIoErrorAndKeepsNothing) {
  ScratchDir dir;
  WriteFile(dir.Join("plain"), "a file, not a folder");
  const Status status = WriteFileAtomically(dir.Join("plain/child.txt"), "x");
  ASSERT_FALSE(status.ok()) << "the parent is a file";
  EXPECT_EQ(status.code(), Status::Code::kIoError);
  EXPECT_EQ(ListFolder(dir.path()), (std::vector<std::string>{"plain"}));
  EXPECT_EQ(ReadFileOrDie(dir.Join("plain")), "a file, not a folder");
}

TEST(AtomicFile, ReadingAMissingFileIsNotFound) {
  ScratchDir dir;
  const Result<std::string> read = ReadWholeFile(dir.Join("absent.json"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(Contains(read.status().message(), "absent.json")) << read.status().message();
  EXPECT_FALSE(FileExists(dir.Join("absent.json")));
  WriteFile(dir.Join("present"), "");
  EXPECT_TRUE(FileExists(dir.Join("present")));
}

TEST(AtomicFile, ReadingAFolderIsAnError) {
  // Regression test (fixed bug): ReadWholeFile on a folder returns ok with an empty string
  // (ifstream opens a directory on Linux and the failed read is not detected)
  ScratchDir dir;
  fs::create_directories(dir.Join("du_0.json"));
  const Result<std::string> read = ReadWholeFile(dir.Join("du_0.json"));
  ASSERT_FALSE(read.ok()) << "read " << read->size() << " bytes from a folder";
  EXPECT_TRUE(Contains(read.status().message(), "du_0.json")) << read.status().message();
}

// ---- Deployable-unit JSON -------------------------------------------------------------

LayerSpec Layer(const std::string& type, const std::map<std::string, std::vector<double>>& numbers,
                const std::map<std::string, std::string>& words) {
  LayerSpec layer;
  layer.type = type;
  for (const auto& [key, values] : numbers) {
    for (double v : values) layer.numbers[key].push_back(NumberOrVar{v, ""});
  }
  layer.words = words;
  return layer;
}

SubnetSpec SampleSubnet(int index) {
  SubnetSpec subnet;
  subnet.index = index;
  subnet.model.input_shape = {784};
  subnet.model.input_dtype = "float";
  subnet.model.layers = {
      Layer("reshape", {{"shape", {28, 28, 1}}}, {}),
      Layer("conv2d", {{"filters", {17}}, {"kernel", {3, 3}}, {"stride", {1, 1}}},
            {{"activation", "relu"}, {"padding", "same"}}),
      Layer("dropout", {{"rate", {0.25}}}, {}),
      Layer("flatten", {}, {}),
      Layer("dense", {{"units", {7}}}, {{"activation", "softmax"}}),
  };
  subnet.train.optimizer = "sgd";
  subnet.train.learning_rate = 0.05;
  subnet.train.momentum = 0.9;
  subnet.train.loss = "sparse_categorical_crossentropy";
  subnet.train.batch_size = 16;
  subnet.train.epochs = NumberOrVar{7, ""};
  subnet.train.epochs_policy = EpochsPolicy::kKeep;
  subnet.epochs = 7;
  subnet.widths = {{"_FILTERS_1", 17}, {"_NEURON_1", 7}, {"_EPOCHS", 7}};
  subnet.seed = UINT64_C(0xFEDCBA9876543210) + static_cast<uint64_t>(index);
  subnet.classes = {0, 1, 2, 3, 7, 8, 9};
  subnet.cost = 1.234567890123e12;
  subnet.parameter_bytes = 4 * 12345;
  subnet.train_samples = 42000;
  return subnet;
}

DuSpec SampleDu() {
  DuSpec du;
  du.index = 0;
  du.main_program = true;
  du.program.name = "mnist_cnn";
  du.program.problem = ProblemType::kMulticlass;
  du.program.metrics = {"accuracy", "loss"};
  du.program.seed = UINT64_MAX;
  du.program.data.train.x = {"csv", "data/train.csv", 255.0, {"a", "2"}, false, ';', {}, {}};
  du.program.data.train.y = {"idx", "data/y.idx", 1.0, {}, true, ',', {}, {}};
  du.program.data.test = DataSplit{{"idx", "t10k-images", 255.0, {}, true, ',', {}, {}},
                                   {"idx", "t10k-labels", 1.0, {}, true, ',', {}, {}},
                                   std::nullopt};
  du.program.data.validation_split = 0.1;
  du.program.data.train_limit = 1000;
  du.program.data.test_limit = 200;
  du.program.num_classes = 10;
  du.program.output_columns = 0;
  du.program.k = 3;
  du.program.groups = 3;
  du.program.factor = 1.5;
  du.subnets = {SampleSubnet(0), SampleSubnet(2)};
  du.subnets[1].classes = {4, 5, 6, 7, 8, 9};
  du.baseline = SampleSubnet(0);
  du.baseline->classes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  du.generation = "20240101T000000Z-abcdef";
  du.cost = 2.5e12;
  du.size_bytes = 98760;
  return du;
}

void ExpectSameSource(const ArraySource& a, const ArraySource& b, const std::string& what) {
  EXPECT_EQ(a.format, b.format) << what;
  EXPECT_EQ(a.path, b.path) << what;
  EXPECT_EQ(a.scale, b.scale) << what;
  EXPECT_EQ(a.columns, b.columns) << what;
  EXPECT_EQ(a.header, b.header) << what;
  EXPECT_EQ(a.delimiter, b.delimiter) << what;
}

void ExpectSameSubnet(const SubnetSpec& a, const SubnetSpec& b) {
  SCOPED_TRACE("subnet " + std::to_string(a.index));
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.model.input_shape, b.model.input_shape);
  EXPECT_EQ(a.model.input_dtype, b.model.input_dtype);
  ASSERT_EQ(a.model.layers.size(), b.model.layers.size());
  for (size_t i = 0; i < a.model.layers.size(); ++i) {
    const LayerSpec& la = a.model.layers[i];
    const LayerSpec& lb = b.model.layers[i];
    EXPECT_EQ(la.type, lb.type) << "layer " << i;
    EXPECT_EQ(la.words, lb.words) << "layer " << i;
    ASSERT_EQ(la.numbers.size(), lb.numbers.size()) << "layer " << i;
    for (const auto& [key, values] : la.numbers) {
      ASSERT_EQ(lb.numbers.count(key), 1u) << "layer " << i << " " << key;
      const auto& other = lb.numbers.at(key);
      ASSERT_EQ(values.size(), other.size()) << "layer " << i << " " << key;
      for (size_t j = 0; j < values.size(); ++j) {
        EXPECT_EQ(values[j].value, other[j].value) << "layer " << i << " " << key;
        EXPECT_EQ(values[j].var, other[j].var) << "layer " << i << " " << key;
      }
    }
  }
  EXPECT_EQ(a.train.optimizer, b.train.optimizer);
  EXPECT_EQ(a.train.learning_rate, b.train.learning_rate);
  EXPECT_EQ(a.train.momentum, b.train.momentum);
  EXPECT_EQ(a.train.loss, b.train.loss);
  EXPECT_EQ(a.train.batch_size, b.train.batch_size);
  EXPECT_EQ(a.train.epochs.value, b.train.epochs.value);
  EXPECT_EQ(a.train.epochs.var, b.train.epochs.var);
  EXPECT_EQ(a.train.epochs_policy, b.train.epochs_policy);
  EXPECT_EQ(a.epochs, b.epochs);
  EXPECT_EQ(a.widths, b.widths);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.classes, b.classes);
  EXPECT_EQ(a.half, b.half);
  EXPECT_EQ(a.column_begin, b.column_begin);
  EXPECT_EQ(a.column_end, b.column_end);
  EXPECT_EQ(a.cost, b.cost);
  EXPECT_EQ(a.parameter_bytes, b.parameter_bytes);
  EXPECT_EQ(a.train_samples, b.train_samples);
}

void ExpectSameDu(const DuSpec& a, const DuSpec& b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.main_program, b.main_program);
  EXPECT_EQ(a.generation, b.generation);
  EXPECT_EQ(a.cost, b.cost);
  EXPECT_EQ(a.size_bytes, b.size_bytes);
  const ProjectProgram& pa = a.program;
  const ProjectProgram& pb = b.program;
  EXPECT_EQ(pa.name, pb.name);
  EXPECT_EQ(pa.problem, pb.problem);
  EXPECT_EQ(pa.metrics, pb.metrics);
  EXPECT_EQ(pa.seed, pb.seed);
  ExpectSameSource(pa.data.train.x, pb.data.train.x, "train.x");
  ExpectSameSource(pa.data.train.y, pb.data.train.y, "train.y");
  ASSERT_EQ(pa.data.test.has_value(), pb.data.test.has_value());
  if (pa.data.test) {
    ExpectSameSource(pa.data.test->x, pb.data.test->x, "test.x");
    ExpectSameSource(pa.data.test->y, pb.data.test->y, "test.y");
  }
  EXPECT_EQ(pa.data.validation_split, pb.data.validation_split);
  EXPECT_EQ(pa.data.train_limit, pb.data.train_limit);
  EXPECT_EQ(pa.data.test_limit, pb.data.test_limit);
  EXPECT_EQ(pa.num_classes, pb.num_classes);
  EXPECT_EQ(pa.output_columns, pb.output_columns);
  EXPECT_EQ(pa.k, pb.k);
  EXPECT_EQ(pa.groups, pb.groups);
  EXPECT_EQ(pa.factor, pb.factor);
  ASSERT_EQ(a.subnets.size(), b.subnets.size());
  for (size_t i = 0; i < a.subnets.size(); ++i) ExpectSameSubnet(a.subnets[i], b.subnets[i]);
  ASSERT_EQ(a.baseline.has_value(), b.baseline.has_value());
  if (a.baseline) ExpectSameSubnet(*a.baseline, *b.baseline);
}

// Through text, as the files are written and read.
Result<DuSpec> RoundTrip(const DuSpec& du) {
  Result<Json> json = ParseJsonText(ToJson(du).dump(2), "du_0.json");
  if (!json.ok()) return json.status();
  return DuSpecFromJson(*json, "du_0.json");
}

TEST(DeployableUnitJson, MulticlassRoundTripKeepsEveryField) {
  const DuSpec du = SampleDu();
  const Result<DuSpec> back = RoundTrip(du);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameDu(du, *back);
}

TEST(DeployableUnitJson, RegressionAndBinaryRoundTrip) {
  DuSpec regression = SampleDu();
  regression.index = 2;
  regression.main_program = false;
  regression.baseline.reset();
  regression.program.problem = ProblemType::kRegression;
  regression.program.num_classes = 0;
  regression.program.output_columns = 784;
  regression.program.data.test.reset();
  regression.program.data.train.y = {"same_as_x", "", 1.0, {}, true, ',', {}, {}};
  for (SubnetSpec& subnet : regression.subnets) {
    subnet.classes.clear();
    subnet.column_begin = 261 * subnet.index;
    subnet.column_end = subnet.column_begin + 261;
  }
  Result<DuSpec> back = RoundTrip(regression);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameDu(regression, *back);

  DuSpec binary = SampleDu();
  binary.program.problem = ProblemType::kBinary;
  binary.program.num_classes = 2;
  binary.program.k = 2;
  binary.program.groups = 0;
  binary.program.factor = 2;
  for (size_t i = 0; i < binary.subnets.size(); ++i) {
    binary.subnets[i].classes.clear();
    binary.subnets[i].half = static_cast<int>(i);
  }
  binary.baseline->classes.clear();
  back = RoundTrip(binary);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameDu(binary, *back);
}

// Applies `edit` to a valid DU's JSON and expects a Corruption naming the file, never an
// exception.
void ExpectCorruption(const std::string& what, const std::function<void(Json&)>& edit) {
  SCOPED_TRACE(what);
  Json json = ToJson(SampleDu());
  edit(json);
  Result<DuSpec> du = Status::Internal("not run");
  EXPECT_NO_THROW(du = DuSpecFromJson(json, "du_files/du_0.json"));
  ASSERT_FALSE(du.ok()) << "accepted";
  EXPECT_EQ(du.status().code(), Status::Code::kCorruption) << du.status().ToString();
  EXPECT_TRUE(Contains(du.status().message(), "du_files/du_0.json")) << du.status().message();
}

TEST(DeployableUnitJson, WrongVersionIsCorruption) {
  Json json = ToJson(SampleDu());
  json["format_version"] = 2;
  const Result<DuSpec> du = DuSpecFromJson(json, "du_0.json");
  ASSERT_FALSE(du.ok());
  EXPECT_EQ(du.status().code(), Status::Code::kCorruption);
  EXPECT_TRUE(Contains(du.status().message(), "DU format version 2 (this build reads version 1)"))
      << du.status().message();
  EXPECT_TRUE(Contains(du.status().message(), "re-run cloudbook-maker")) << du.status().message();
}

TEST(DeployableUnitJson, MissingFieldsAreCorruption) {
  for (const char* key : {"format_version", "index", "main_program", "program", "subnets"}) {
    ExpectCorruption(std::string("missing ") + key, [&](Json& json) { json.erase(key); });
  }
  for (const char* key : {"name", "problem", "seed", "data", "k", "factor"}) {
    ExpectCorruption(std::string("missing program.") + key,
                     [&](Json& json) { json["program"].erase(key); });
  }
  for (const char* key : {"index", "model", "train", "epochs", "seed"}) {
    ExpectCorruption(std::string("missing subnets[0].") + key,
                     [&](Json& json) { json["subnets"][0].erase(key); });
  }
  ExpectCorruption("missing data.train",
                   [](Json& json) { json["program"]["data"].erase("train"); });
  ExpectCorruption("missing layer type",
                   [](Json& json) { json["subnets"][0]["model"]["layers"][1].erase("type"); });
  ExpectCorruption("missing train.loss",
                   [](Json& json) { json["subnets"][1]["train"].erase("loss"); });
}

TEST(DeployableUnitJson, WrongTypesAreCorruptionNeverExceptions) {
  ExpectCorruption("index as text", [](Json& json) { json["index"] = "zero"; });
  ExpectCorruption("main_program as number", [](Json& json) { json["main_program"] = 1.5; });
  ExpectCorruption("unknown problem", [](Json& json) { json["program"]["problem"] = "multiclas"; });
  ExpectCorruption("seed as text", [](Json& json) { json["program"]["seed"] = "42"; });
  ExpectCorruption("subnets as number", [](Json& json) { json["subnets"] = 5; });
  ExpectCorruption("subnet as array", [](Json& json) { json["subnets"][0] = Json::array(); });
  ExpectCorruption("cost as text", [](Json& json) { json["cost"] = "cheap"; });
  ExpectCorruption("classes as text", [](Json& json) { json["subnets"][0]["classes"] = "0-6"; });
  ExpectCorruption("widths as list", [](Json& json) { json["subnets"][0]["widths"] = {1, 2}; });
  ExpectCorruption("layer words as numbers", [](Json& json) {
    json["subnets"][0]["model"]["layers"][1]["words"] = {{"a", 1}};
  });
  ExpectCorruption("layer numbers as objects", [](Json& json) {
    json["subnets"][0]["model"]["layers"][1]["numbers"]["filters"] = {{{"x", 1}}};
  });
  ExpectCorruption("input shape as text",
                   [](Json& json) { json["subnets"][0]["model"]["input"] = "784"; });
  ExpectCorruption("epochs zero", [](Json& json) { json["subnets"][0]["epochs"] = 0; });
  ExpectCorruption("columns reversed", [](Json& json) { json["subnets"][0]["columns"] = {5, 2}; });
  ExpectCorruption("columns of three", [](Json& json) {
    json["subnets"][0]["columns"] = {0, 1, 2};
  });
  ExpectCorruption("baseline as text", [](Json& json) { json["baseline"] = "original"; });
  ExpectCorruption("data as list", [](Json& json) { json["program"]["data"] = Json::array(); });
  ExpectCorruption("whole file an array", [](Json& json) { json = Json::array({1, 2}); });
  ExpectCorruption("whole file null", [](Json& json) { json = nullptr; });
  ExpectCorruption("whole file a string", [](Json& json) { json = "du"; });
}

TEST(DeployableUnitJson, ClassesOutsideTheProblemAreCorruption) {
  // Regression test (fixed bug): DuSpecFromJson accepts subnet classes outside
  // 0..num_classes-1 (and negative ones); SelectSubnetData then indexes its rank table with them
  // (out-of-bounds write)
  ExpectCorruption("class 12 of 10", [](Json& json) { json["subnets"][0]["classes"] = {0, 12}; });
  ExpectCorruption("class -1", [](Json& json) { json["subnets"][0]["classes"] = {-1, 3}; });
}

// ---- distributed/config.json ----------------------------------------------------------

TEST(ProjectConfig, EnsureWritesTheDefaultsOnce) {
  ScratchDir dir;
  const std::string path = dir.Join("distributed/config.json");
  bool created = false;
  const Result<ProjectConfig> config = EnsureProjectConfig(path, &created);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(created);
  EXPECT_EQ(config->desired_dus, 0);
  EXPECT_EQ(config->announce_interval_s, 5);
  EXPECT_EQ(config->stats_interval_s, 2);
  EXPECT_EQ(config->heartbeat_interval_s, 1);
  EXPECT_EQ(config->liveness_timeout_s, 15);

  const Result<Json> json = ReadJsonFile(path);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, Json::parse(R"({"format_version": 1, "desired_dus": 0,
      "announce_interval_s": 5.0, "stats_interval_s": 2.0, "heartbeat_interval_s": 1.0,
      "liveness_timeout_s": 15.0})"));

  // A user edit is kept: Ensure only reads an existing file.
  WriteFile(path, R"({"desired_dus": 2, "liveness_timeout_s": 30})");
  const Result<ProjectConfig> edited = EnsureProjectConfig(path, &created);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_FALSE(created);
  EXPECT_EQ(edited->desired_dus, 2);
  EXPECT_EQ(edited->liveness_timeout_s, 30);
  EXPECT_EQ(edited->announce_interval_s, 5) << "missing keys take their defaults";
  EXPECT_EQ(ReadFileOrDie(path), R"({"desired_dus": 2, "liveness_timeout_s": 30})");
}

TEST(ProjectConfig, ToJsonRoundTrips) {
  ProjectConfig config;
  config.desired_dus = 4;
  config.announce_interval_s = 0.5;
  config.stats_interval_s = 3;
  config.heartbeat_interval_s = 0.25;
  config.liveness_timeout_s = 60;
  const Result<ProjectConfig> back = ProjectConfigFromJson(ToJson(config), "config.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->desired_dus, 4);
  EXPECT_EQ(back->announce_interval_s, 0.5);
  EXPECT_EQ(back->stats_interval_s, 3);
  EXPECT_EQ(back->heartbeat_interval_s, 0.25);
  EXPECT_EQ(back->liveness_timeout_s, 60);
}

TEST(ProjectConfig, BadValuesNameTheKey) {
  const std::vector<std::pair<std::string, Json>> cases = {
      {"desired_dus", -1},
      {"desired_dus", 2.5},
      {"desired_dus", "3"},
      {"desired_dus", true},
      {"announce_interval_s", 0},
      {"stats_interval_s", -2},
      {"heartbeat_interval_s", "1"},
      {"liveness_timeout_s", nullptr},
      {"liveness_timeout_s", Json::array({15})},
  };
  for (const auto& [key, value] : cases) {
    Json json = Json::object();
    json[key] = value;
    const Result<ProjectConfig> config = ProjectConfigFromJson(json, "distributed/config.json");
    ASSERT_FALSE(config.ok()) << key << " = " << value.dump();
    EXPECT_EQ(config.status().code(), Status::Code::kInvalidArgument);
    EXPECT_TRUE(Contains(config.status().message(), "distributed/config.json: " + key))
        << config.status().message();
  }
  EXPECT_FALSE(ProjectConfigFromJson(Json::array(), "config.json").ok()) << "not an object";
}

TEST(ProjectConfig, MalformedFileIsAnErrorAndIsLeftAlone) {
  ScratchDir dir;
  const std::string path = dir.Join("config.json");
  WriteFile(path, "{not json");
  const Result<ProjectConfig> config = EnsureProjectConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Status::Code::kCorruption);
  EXPECT_TRUE(Contains(config.status().message(), path)) << config.status().message();
  EXPECT_EQ(ReadFileOrDie(path), "{not json") << "never overwritten with defaults";
}

// An image-folder split and data.test_split travel in the DU file, so agents read the same data.
TEST(DeployableUnitJson, ImageFolderAndTestSplitRoundTrip) {
  DuSpec du = SampleDu();
  du.program.data.train = DataSplit{};
  du.program.data.train.images = ImageFolderSource{"flowers/train", "rgb", 255};
  du.program.data.test.reset();
  du.program.data.test_split = TestSplitSpec{0.2, 9};
  const Result<DuSpec> back = RoundTrip(du);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const DataSpec& data = back->program.data;
  ASSERT_TRUE(data.train.images.has_value());
  EXPECT_EQ(data.train.images->path, "flowers/train");
  EXPECT_EQ(data.train.images->color, "rgb");
  EXPECT_EQ(data.train.images->scale, 255);
  EXPECT_FALSE(data.test.has_value());
  ASSERT_TRUE(data.test_split.has_value());
  EXPECT_EQ(data.test_split->fraction, 0.2);
  EXPECT_EQ(data.test_split->seed, 9u);
  // Programs without them write the DU file as before (same checkpoint fingerprints).
  EXPECT_EQ(ToJson(SampleDu()).dump().find("\"test_split\""), std::string::npos);
  EXPECT_EQ(ToJson(SampleDu()).dump().find("\"images\""), std::string::npos);
}

}  // namespace
}  // namespace cloudbook
