// MakeDeployableUnits end to end in a scratch project: a program in original/, tiny IDX files
// in distributed/working_dir, and the DU files the maker writes. A failed make must leave
// the previous DUs byte-identical, and the maker never writes to original/.
#include "maker/maker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shared/json_io.h"
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

// The spec's MLP with small widths: 16 / 8 / 10 classes, 3 epochs.
constexpr char kTinyMlp[] = R"(name: tiny_mlp
problem: multiclass
seed: 42
data:
  train:
    x: {format: idx, path: mnist/train-images-idx3-ubyte, scale: 255}
    y: {format: idx, path: mnist/train-labels-idx1-ubyte}
  test:
    x: {format: idx, path: mnist/t10k-images-idx3-ubyte, scale: 255}
    y: {format: idx, path: mnist/t10k-labels-idx1-ubyte}
vars:
  _NEURON_1: 16
  _NEURON_2: 8
  _NEURON_3: 10
  _EPOCHS: 3
model:
  input: [28, 28]
  layers:
    - flatten
    - dense: {units: _NEURON_1, activation: relu}
    - dense: {units: _NEURON_2, activation: relu}
    - dense: {units: _NEURON_3, activation: softmax}
train:
  optimizer: {adam: {lr: 0.001}}
  loss: sparse_categorical_crossentropy
  batch_size: 8
  epochs: _EPOCHS
)";

void AppendBigEndian32(std::string* out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

// An unsigned-byte IDX file: 0, 0, type 0x08, rank, big-endian dims, then the bytes.
std::string UbyteIdx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& values) {
  std::string out = {'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (uint32_t dim : dims) AppendBigEndian32(&out, dim);
  out.append(values.begin(), values.end());
  return out;
}

std::vector<uint8_t> Images(uint32_t count) {
  std::vector<uint8_t> pixels(static_cast<size_t>(count) * 28 * 28);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>((i * 7) % 256);
  return pixels;
}

std::vector<uint8_t> CyclingLabels(uint32_t count) {
  std::vector<uint8_t> labels(count);
  for (uint32_t i = 0; i < count; ++i) labels[i] = static_cast<uint8_t>(i % 10);
  return labels;
}

// A project with the tiny MLP and 40 training / 20 test images, labels 0..9 cycling.
class MakerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(Original("p.yaml"), kTinyMlp);
    WriteFile(Data("train-images-idx3-ubyte"), UbyteIdx({40, 28, 28}, Images(40)));
    WriteFile(Data("train-labels-idx1-ubyte"), UbyteIdx({40}, CyclingLabels(40)));
    WriteFile(Data("t10k-images-idx3-ubyte"), UbyteIdx({20, 28, 28}, Images(20)));
    WriteFile(Data("t10k-labels-idx1-ubyte"), UbyteIdx({20}, CyclingLabels(20)));
  }

  std::string Original(const std::string& name) const { return dir_.Join("original/" + name); }
  std::string Distributed(const std::string& name) const {
    return dir_.Join("distributed/" + name);
  }
  std::string Data(const std::string& name) const {
    return Distributed("working_dir/mnist/" + name);
  }

  MakeOptions Options(int64_t subnets = 3) const {
    MakeOptions options;
    options.project_folder = dir_.path();
    options.subnets = subnets;
    return options;
  }

  MakeReport MakeOk(const MakeOptions& options) {
    Result<MakeReport> report = MakeDeployableUnits(options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? std::move(report).value() : MakeReport();
  }

  std::string MakeError(const MakeOptions& options) {
    Result<MakeReport> report = MakeDeployableUnits(options);
    EXPECT_FALSE(report.ok()) << "the make succeeded";
    return report.ok() ? "" : report.status().message();
  }

  // Every file below `folder`, relative path -> contents.
  std::map<std::string, std::string> Snapshot(const std::string& folder) const {
    std::map<std::string, std::string> files;
    if (!fs::exists(folder)) return files;
    for (const auto& entry : fs::recursive_directory_iterator(folder)) {
      if (!fs::is_regular_file(entry)) continue;
      files[fs::relative(entry.path(), folder).string()] = ReadFileOrDie(entry.path().string());
    }
    return files;
  }

  // The names directly inside `folder`, sorted.
  std::vector<std::string> List(const std::string& folder) const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  ScratchDir dir_;
};

TEST_F(MakerTest, WritesOneDuPerSubnetAndTheList) {
  const std::map<std::string, std::string> original_before = Snapshot(dir_.Join("original"));
  const MakeReport report = MakeOk(Options(3));
  ASSERT_EQ(report.dus.size(), 3u);
  EXPECT_EQ(report.program_path, Original("p.yaml"));
  EXPECT_EQ(report.plan.subnets, 3);
  EXPECT_EQ(report.plan.groups, 3);
  EXPECT_TRUE(report.config_created);
  EXPECT_FALSE(report.generation.empty());

  EXPECT_EQ(List(dir_.Join("distributed")),
            (std::vector<std::string>{"config.json", "du_files", "du_list.json", "working_dir"}))
      << "no staging or retired folders left behind";
  EXPECT_EQ(List(Distributed("du_files")),
            (std::vector<std::string>{"du_0.json", "du_1.json", "du_2.json"}));
  EXPECT_EQ(Snapshot(dir_.Join("original")), original_before) << "original/ is never written";

  const Result<Json> list = ReadJsonFile(Distributed("du_list.json"));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ((*list)["generation"], report.generation);
  ASSERT_EQ((*list)["dus"].size(), 3u);
  for (int d = 0; d < 3; ++d) {
    const Json& entry = (*list)["dus"][static_cast<size_t>(d)];
    EXPECT_EQ(entry["index"], d);
    EXPECT_EQ(entry["file"], "du_files/du_" + std::to_string(d) + ".json");
    EXPECT_EQ(entry["main_program"], d == 0);
    EXPECT_EQ(entry["subnets"], Json::array({d})) << "equal costs keep subnet order";
    const Result<Json> du = ReadJsonFile(Distributed("du_files/du_" + std::to_string(d) + ".json"));
    ASSERT_TRUE(du.ok()) << du.status().ToString();
    EXPECT_EQ((*du)["generation"], report.generation) << "DU " << d << " belongs to this make";
  }

  const Result<Json> config = ReadJsonFile(Distributed("config.json"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ((*config)["desired_dus"], 0);
}

TEST_F(MakerTest, ReadDuSpecsReturnsWhatWasMade) {
  const MakeReport report = MakeOk(Options(3));
  const Result<std::vector<DuSpec>> dus = ReadDuSpecs(dir_.path());
  ASSERT_TRUE(dus.ok()) << dus.status().ToString();
  ASSERT_EQ(dus->size(), 3u);

  const DuSpec& main = (*dus)[0];
  EXPECT_TRUE(main.main_program);
  ASSERT_TRUE(main.baseline.has_value()) << "DU 0 carries the original for comparison";
  EXPECT_EQ(main.baseline->widths.at("_NEURON_1"), 16);
  EXPECT_EQ(main.baseline->epochs, 3);
  EXPECT_EQ(main.baseline->train_samples, 40);
  EXPECT_EQ(main.program.name, "tiny_mlp");
  EXPECT_EQ(main.program.num_classes, 10);
  EXPECT_EQ(main.program.k, 3);
  EXPECT_EQ(main.program.groups, 3);
  EXPECT_DOUBLE_EQ(main.program.factor, 1.5);
  EXPECT_EQ(main.program.data.train.x.path, "mnist/train-images-idx3-ubyte");

  const std::vector<std::vector<int64_t>> classes = {
      {0, 1, 2, 3, 4, 5, 6}, {0, 1, 2, 3, 7, 8, 9}, {4, 5, 6, 7, 8, 9}};
  for (int d = 0; d < 3; ++d) {
    const DuSpec& du = (*dus)[static_cast<size_t>(d)];
    SCOPED_TRACE("DU " + std::to_string(d));
    EXPECT_EQ(du.index, d);
    EXPECT_EQ(du.generation, report.generation);
    EXPECT_EQ(du.main_program, d == 0);
    EXPECT_EQ(du.baseline.has_value(), d == 0);
    ASSERT_EQ(du.subnets.size(), 1u);
    const SubnetSpec& subnet = du.subnets[0];
    EXPECT_EQ(subnet.index, d);
    EXPECT_EQ(subnet.classes, classes[static_cast<size_t>(d)]);
    EXPECT_EQ(subnet.widths.at("_NEURON_1"), 11) << "ceil(16 / 1.5)";
    EXPECT_EQ(subnet.widths.at("_NEURON_2"), 6) << "ceil(8 / 1.5)";
    EXPECT_EQ(subnet.epochs, 2) << "ceil(3 / 1.5): dense-only multiclass";
    EXPECT_EQ(subnet.train_samples, 4 * static_cast<int64_t>(subnet.classes.size()))
        << "40 samples, 4 per class";
    EXPECT_EQ(du.size_bytes, subnet.parameter_bytes);
    EXPECT_DOUBLE_EQ(du.cost, subnet.cost);
  }
}

TEST_F(MakerTest, OneDesiredDuPacksEverySubnetIntoDuZero) {
  MakeOk(Options(3));  // three DUs first: the second make must not leave du_1, du_2 behind
  MakeOptions options = Options(3);
  options.desired_dus = 1;
  const MakeReport report = MakeOk(options);
  ASSERT_EQ(report.dus.size(), 1u);
  EXPECT_EQ(List(Distributed("du_files")), (std::vector<std::string>{"du_0.json"}));

  const Result<std::vector<DuSpec>> dus = ReadDuSpecs(dir_.path());
  ASSERT_TRUE(dus.ok()) << dus.status().ToString();
  ASSERT_EQ(dus->size(), 1u);
  const DuSpec& du = (*dus)[0];
  EXPECT_TRUE(du.main_program);
  ASSERT_EQ(du.subnets.size(), 3u);
  double cost = 0;
  int64_t bytes = 0;
  for (int s = 0; s < 3; ++s) {
    EXPECT_EQ(du.subnets[static_cast<size_t>(s)].index, s);
    cost += du.subnets[static_cast<size_t>(s)].cost;
    bytes += du.subnets[static_cast<size_t>(s)].parameter_bytes;
  }
  EXPECT_DOUBLE_EQ(du.cost, cost);
  EXPECT_EQ(du.size_bytes, bytes);
}

TEST_F(MakerTest, ConfigDesiredDusIsUsedWhenNotGiven) {
  WriteFile(Distributed("config.json"), R"({"desired_dus": 2})");
  const MakeReport report = MakeOk(Options(3));
  EXPECT_FALSE(report.config_created);
  ASSERT_EQ(report.dus.size(), 2u);
  EXPECT_EQ(report.dus[0].subnets.size() + report.dus[1].subnets.size(), 3u);
  EXPECT_EQ(ReadFileOrDie(Distributed("config.json")), R"({"desired_dus": 2})")
      << "an existing config is only read";
}

TEST_F(MakerTest, FailedMakeLeavesThePreviousDusByteIdentical) {
  MakeOk(Options(3));
  const auto du_files = Snapshot(Distributed("du_files"));
  const std::string du_list = ReadFileOrDie(Distributed("du_list.json"));
  const auto original = Snapshot(dir_.Join("original"));
  ASSERT_EQ(du_files.size(), 3u);

  // n = 45: g = 10, F = 5, and _NEURON_2 = 8 would become 1.6.
  const std::string narrow = MakeError(Options(45));
  EXPECT_TRUE(Contains(narrow, "_NEURON_2 = 8 divided by F = 5 gives 1.6")) << narrow;
  EXPECT_TRUE(Contains(narrow, "the largest n that works is 28")) << narrow;
  EXPECT_EQ(Snapshot(Distributed("du_files")), du_files);
  EXPECT_EQ(ReadFileOrDie(Distributed("du_list.json")), du_list);
  EXPECT_EQ(Snapshot(dir_.Join("original")), original);

  // A missing data file.
  fs::remove(Data("t10k-labels-idx1-ubyte"));
  const std::string missing = MakeError(Options(3));
  EXPECT_TRUE(Contains(missing, "t10k-labels-idx1-ubyte")) << missing;
  EXPECT_EQ(Snapshot(Distributed("du_files")), du_files);
  EXPECT_EQ(ReadFileOrDie(Distributed("du_list.json")), du_list);
  EXPECT_EQ(Snapshot(dir_.Join("original")), original);
  EXPECT_EQ(List(dir_.Join("distributed")),
            (std::vector<std::string>{"config.json", "du_files", "du_list.json", "working_dir"}));

  // The previous make is still readable.
  const Result<std::vector<DuSpec>> dus = ReadDuSpecs(dir_.path());
  ASSERT_TRUE(dus.ok()) << dus.status().ToString();
  EXPECT_EQ(dus->size(), 3u);
}

TEST_F(MakerTest, LabelOutOfRangeIsAClearErrorAndWritesNothing) {
  std::vector<uint8_t> labels = CyclingLabels(40);
  labels[5] = 12;
  WriteFile(Data("train-labels-idx1-ubyte"), UbyteIdx({40}, labels));
  const std::string message = MakeError(Options(3));
  EXPECT_TRUE(Contains(message, "data.train.y: sample 5 has label 12")) << message;
  EXPECT_TRUE(Contains(message, "labels must be integers in 0..9")) << message;
  EXPECT_TRUE(Contains(message, "p.yaml")) << "names the program: " << message;
  EXPECT_EQ(List(dir_.Join("distributed")), (std::vector<std::string>{"working_dir"}))
      << "nothing written, not even config.json";
}

TEST_F(MakerTest, ImageSizeNotFittingTheModelInputIsAnError) {
  WriteFile(Data("train-images-idx3-ubyte"),
            UbyteIdx({40, 27, 28}, std::vector<uint8_t>(40 * 27 * 28, 1)));
  const std::string message = MakeError(Options(3));
  EXPECT_TRUE(Contains(message,
                       "data.train.x: each sample holds 756 values but model.input "
                       "[28, 28] needs 784"))
      << message;
}

TEST_F(MakerTest, ReadingBeforeAnyMakeSaysWhatToRun) {
  const Result<std::vector<DuSpec>> dus = ReadDuSpecs(dir_.path());
  ASSERT_FALSE(dus.ok());
  EXPECT_EQ(dus.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(Contains(dus.status().message(), "run cloudbook-maker")) << dus.status().message();
}

TEST_F(MakerTest, MixedGenerationsAreDetected) {
  MakeOk(Options(3));
  Result<Json> du = ReadJsonFile(Distributed("du_files/du_1.json"));
  ASSERT_TRUE(du.ok()) << du.status().ToString();
  (*du)["generation"] = "19700101T000000Z-000000";
  ASSERT_TRUE(WriteJsonFileAtomically(Distributed("du_files/du_1.json"), *du).ok());
  const Result<std::vector<DuSpec>> dus = ReadDuSpecs(dir_.path());
  ASSERT_FALSE(dus.ok()) << "du_1.json belongs to another make";
  EXPECT_EQ(dus.status().code(), Status::Code::kCorruption);
  EXPECT_TRUE(Contains(dus.status().message(), "belongs to make 19700101T000000Z-000000"))
      << dus.status().message();
}

TEST_F(MakerTest, SeveralProgramsMustBeChosenExplicitly) {
  WriteFile(Original("other.yml"), kTinyMlp);
  const Result<std::string> found = FindProgramFile(dir_.path(), "");
  ASSERT_FALSE(found.ok());
  EXPECT_TRUE(Contains(found.status().message(), "choose one with --program"))
      << found.status().message();
  EXPECT_TRUE(Contains(found.status().message(), "other.yml")) << found.status().message();
  EXPECT_TRUE(Contains(found.status().message(), "p.yaml")) << found.status().message();

  MakeOptions options = Options(3);
  options.program_file = "other.yml";
  const MakeReport report = MakeOk(options);
  EXPECT_EQ(report.program_path, Original("other.yml"));
  EXPECT_EQ(report.dus.size(), 3u);
}

}  // namespace
}  // namespace cloudbook
