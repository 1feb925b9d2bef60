// cloudbook-predict as users run it: a real cloudbook-maker --local run leaves a model in
// distributed/models/<run>/, then real cloudbook-predict processes apply it. On the run's own
// test set (the IDX files, first --test-limit samples) with --labels it reproduces the run's
// composed accuracy exactly, whatever multiple of 1024 the batch is; CSV and JSON Lines say
// the same; a PNG class-folder program predicts image files; bad inputs get clear errors.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "shared/atomic_file.h"
#include "shared/data/idx_reader.h"
#include "shared/exit_codes.h"
#include "shared/json_io.h"
#include "tests/shapes_project.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::CommandResult;
using testing::ScratchDir;

std::string Bin(const std::string& name) { return std::string(CLOUDBOOK_BIN_DIR) + "/" + name; }

constexpr int64_t kTestSamples = 2000;  // two libtorch chunks of the predictor (1024 + 976)

std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::string field;
    std::istringstream cells(line);
    while (std::getline(cells, field, ',')) fields.push_back(field);
    rows.push_back(fields);
  }
  return rows;
}

size_t Column(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

class PredictFashion : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::SetUpFashionMlpProject(project_.path())) {
      GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
    }
    const CommandResult run = testing::RunShellMerged(
        Bin("cloudbook-maker") + " -p " + project_.path() +
        " --subnets 3 --train-limit 3000 --test-limit " + std::to_string(kTestSamples) +
        " --local --threads 1 --run-name r1");
    ASSERT_EQ(run.exit_code, 0) << run.out;
    auto results = ReadJsonFile(project_.Join("distributed/results/r1.json"));
    ASSERT_TRUE(results.ok()) << results.status().ToString();
    results_ = *results;
  }

  CommandResult Predict(const std::string& arguments, const std::string& out_name = "out") {
    return testing::RunShell(Bin("cloudbook-predict") + " -p " + project_.path() + " " + arguments,
                             project_.Join(out_name + ".err"));
  }

  static std::string Images() { return testing::FashionMnistDir() + "/t10k-images-idx3-ubyte.gz"; }
  static std::string Labels() { return testing::FashionMnistDir() + "/t10k-labels-idx1-ubyte.gz"; }

  ScratchDir project_;
  Json results_;
};

TEST_F(PredictFashion, ReproducesTheRunsComposedAccuracyOnItsTestSet) {
  const double run_accuracy = results_["composed"]["metrics"]["accuracy"].get<double>();
  const std::string test_set = "--input " + Images() + " --limit " + std::to_string(kTestSamples);
  const CommandResult one_batch = Predict(test_set + " --labels " + Labels());
  ASSERT_EQ(one_batch.exit_code, 0) << one_batch.err;

  // The summary's own count, and the classes of the CSV against the IDX labels.
  int correct = -1, total = -1;
  const size_t at = one_batch.err.find("accuracy ");
  ASSERT_NE(at, std::string::npos) << one_batch.err;
  ASSERT_EQ(std::sscanf(one_batch.err.c_str() + one_batch.err.find('(', at), "(%d/%d correct)",
                        &correct, &total),
            2)
      << one_batch.err;
  EXPECT_EQ(total, kTestSamples);
  EXPECT_EQ(static_cast<double>(correct) / static_cast<double>(total), run_accuracy)
      << one_batch.err;
  EXPECT_NE(one_batch.err.find("predicted 2000 samples"), std::string::npos) << one_batch.err;
  EXPECT_NE(one_batch.err.find("predicted classes: 0="), std::string::npos) << one_batch.err;

  auto labels = ReadIdxFile(Labels(), IdxReadOptions{1.0, kTestSamples});
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  const auto rows = ParseCsv(one_batch.out);
  ASSERT_EQ(rows.size(), static_cast<size_t>(kTestSamples + 1));
  const size_t class_column = Column(rows[0], "class");
  int agree = 0;
  for (int64_t i = 0; i < kTestSamples; ++i) {
    agree += std::stoi(rows[i + 1][class_column]) == static_cast<int>(labels->values[i]);
  }
  EXPECT_EQ(static_cast<double>(agree) / kTestSamples, run_accuracy);

  // Batches that are multiples of 1024 keep libtorch's chunks: the same bits.
  const CommandResult batched = Predict(test_set + " --batch-size 1024", "batched");
  ASSERT_EQ(batched.exit_code, 0) << batched.err;
  const CommandResult whole = Predict(test_set + " --batch-size 4096", "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(batched.out, one_batch.out);
  EXPECT_EQ(whole.out, one_batch.out);
}

TEST_F(PredictFashion, CsvAndJsonLinesAgreeAndTopKIsSorted) {
  const std::string input = "--input " + Images() + " --limit 300 --top-k 3";
  const CommandResult csv = Predict(input + " --output " + project_.Join("p.csv"), "csv");
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  const CommandResult jsonl = Predict(input + " --output " + project_.Join("p.jsonl"), "jsonl");
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
  EXPECT_NE(jsonl.err.find("predictions: " + project_.Join("p.jsonl")), std::string::npos);

  const auto rows = ParseCsv(testing::ReadFileOrDie(project_.Join("p.csv")));
  ASSERT_EQ(rows.size(), 301u);
  std::istringstream lines(testing::ReadFileOrDie(project_.Join("p.jsonl")));
  int64_t sample = 0;
  for (std::string line; std::getline(lines, line); ++sample) {
    const Json json = Json::parse(line);
    const auto& row = rows.at(static_cast<size_t>(sample + 1));
    ASSERT_EQ(json["sample"].get<int64_t>(), sample);
    EXPECT_EQ(std::to_string(json["class"].get<int>()), row[Column(rows[0], "class")]);
    ASSERT_EQ(json["probabilities"].size(), 10u);
    double sum = 0;
    for (int c = 0; c < 10; ++c) {
      const float p = json["probabilities"][c].get<float>();
      EXPECT_EQ(p, std::stof(row[Column(rows[0], "p_" + std::to_string(c))]));
      sum += p;
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
    const Json& top = json["top_k"];
    ASSERT_EQ(top.size(), 3u);
    EXPECT_EQ(top[0]["class"], json["class"]);
    for (int k = 0; k < 3; ++k) {
      const std::string name = "top" + std::to_string(k + 1);
      EXPECT_EQ(std::to_string(top[k]["class"].get<int>()), row[Column(rows[0], name + "_class")]);
      EXPECT_EQ(top[k]["probability"].get<float>(),
                json["probabilities"][top[k]["class"].get<int>()].get<float>());
      if (k > 0)
        EXPECT_GE(top[k - 1]["probability"].get<float>(), top[k]["probability"].get<float>());
    }
  }
  EXPECT_EQ(sample, 300);
}

TEST_F(PredictFashion, BadInputsGetClearErrorsAndExitCodes) {
  // Labels as input: one value per sample, not 28x28.
  const CommandResult shape = Predict("--input " + Labels(), "shape");
  EXPECT_EQ(shape.exit_code, kExitInvalidInput) << shape.err;
  EXPECT_NE(shape.err.find("the model takes [28, 28]"), std::string::npos) << shape.err;
  EXPECT_TRUE(shape.out.empty()) << "nothing predicted";

  const CommandResult missing = Predict("--input " + project_.Join("nope.idx"), "missing");
  EXPECT_EQ(missing.exit_code, kExitInvalidInput) << missing.err;
  EXPECT_NE(missing.err.find(project_.Join("nope.idx")), std::string::npos) << missing.err;

  testing::WriteFile(project_.Join("torn.idx"), std::string("\0\0\x08\x03\0\0", 6));
  const CommandResult torn = Predict("--input " + project_.Join("torn.idx"), "torn");
  EXPECT_NE(torn.exit_code, 0) << torn.err;
  EXPECT_NE(torn.err.find("torn.idx"), std::string::npos) << torn.err;

  const CommandResult run = Predict("--input " + Images() + " --run r2", "run");
  EXPECT_EQ(run.exit_code, kExitInvalidInput) << run.err;
  EXPECT_NE(run.err.find("r2"), std::string::npos) << run.err;
  const CommandResult bad_name = Predict("--input " + Images() + " --run ../r1", "name");
  EXPECT_EQ(bad_name.exit_code, kExitInvalidInput) << bad_name.err;

  const CommandResult labels =
      Predict("--input " + Images() + " --limit 10 --labels " + Images(), "labels");
  EXPECT_EQ(labels.exit_code, kExitInvalidInput) << labels.err;
  EXPECT_NE(labels.err.find("labels must be one integer per sample"), std::string::npos)
      << labels.err;

  const CommandResult usage = Predict("--input " + Images() + " --format parquet", "usage");
  EXPECT_EQ(usage.exit_code, kExitUsage) << usage.err;
}

TEST(PredictCommandLine, HelpVersionAndAProjectWithoutAModel) {
  const CommandResult help = testing::RunShellMerged(Bin("cloudbook-predict") + " --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--labels"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos) << help.out;
  const CommandResult version = testing::RunShellMerged(Bin("cloudbook-predict") + " --version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("cloudbook-predict ", 0), 0u) << version.out;
  const CommandResult bare = testing::RunShellMerged(Bin("cloudbook-predict"));
  EXPECT_EQ(bare.exit_code, kExitUsage) << bare.out;

  ScratchDir project;
  fs::create_directories(project.Join("distributed"));
  const CommandResult none = testing::RunShellMerged(Bin("cloudbook-predict") + " -p " +
                                                     project.path() + " --input /dev/null");
  EXPECT_EQ(none.exit_code, kExitInvalidInput) << none.out;
  EXPECT_NE(none.out.find("model"), std::string::npos) << none.out;
}

TEST(PredictImages, PredictsPngFilesAFolderOfThemAndAClassFolderTree) {
  ScratchDir project;
  WriteFileAtomically(project.Join("original/shapes.yaml"), testing::kShapesProgram);
  const std::string shapes = project.Join("distributed/working_dir/shapes");
  ASSERT_NO_FATAL_FAILURE(testing::WriteShapes(shapes));
  const CommandResult run = testing::RunShellMerged(
      Bin("cloudbook-maker") + " -p " + project.path() + " --subnets 3 --local --threads 1");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto predict = [&](const std::string& arguments, const std::string& name) {
    return testing::RunShell(Bin("cloudbook-predict") + " -p " + project.path() + " " + arguments,
                             project.Join(name + ".err"));
  };

  // The class-folder tree: every image, labelled by its folder.
  const CommandResult tree = predict("--input " + shapes + " --top-k 2", "tree");
  ASSERT_EQ(tree.exit_code, 0) << tree.err;
  const auto rows = ParseCsv(tree.out);
  ASSERT_EQ(rows.size(), 161u) << tree.out;
  EXPECT_EQ(rows[0][1], "file");
  EXPECT_EQ(rows[0][3], "class_name");
  std::map<std::string, std::string> class_of;  // file -> class name
  for (size_t i = 1; i < rows.size(); ++i) class_of[rows[i][1]] = rows[i][3];
  EXPECT_EQ(rows[1][1], "blue/000.jpg");
  EXPECT_NE(tree.err.find("predicted 160 samples"), std::string::npos) << tree.err;
  double accuracy = 0;
  const size_t at = tree.err.find("accuracy ");
  ASSERT_NE(at, std::string::npos) << "folders are labels\n" << tree.err;
  accuracy = std::stod(tree.err.substr(at + 9));
  EXPECT_GT(accuracy, 0.8) << "chance is 0.25\n" << tree.err;

  // One PNG file, and a plain folder of PNG files: the same classes as in the tree.
  const CommandResult one =
      predict("--input " + shapes + "/red/001.png --output-format jsonl", "one");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const Json answer = Json::parse(one.out.substr(0, one.out.find('\n')));
  EXPECT_EQ(answer["file"], "001.png");
  EXPECT_EQ(answer["class_name"].get<std::string>(), class_of["red/001.png"]);

  const std::string flat = project.Join("flat");
  fs::create_directories(flat);
  for (const char* file : {"green/003.png", "frame/005.png", "blue/007.png"}) {
    fs::copy_file(shapes + "/" + file, flat + "/" + fs::path(file).parent_path().string() + ".png");
  }
  const CommandResult folder = predict("--input " + flat, "flat");
  ASSERT_EQ(folder.exit_code, 0) << folder.err;
  const auto flat_rows = ParseCsv(folder.out);
  ASSERT_EQ(flat_rows.size(), 4u) << folder.out;
  EXPECT_EQ(flat_rows[1][1], "blue.png");
  EXPECT_EQ(flat_rows[1][3], class_of["blue/007.png"]);
  EXPECT_EQ(flat_rows[2][3], class_of["frame/005.png"]);
  EXPECT_EQ(flat_rows[3][3], class_of["green/003.png"]);
  EXPECT_EQ(folder.err.find("accuracy"), std::string::npos) << "no labels\n" << folder.err;

  // Not an image.
  testing::WriteFile(flat + "/broken.png", "not a png");
  const CommandResult broken = predict("--input " + flat, "broken");
  EXPECT_EQ(broken.exit_code, kExitInvalidInput) << broken.err;
  EXPECT_NE(broken.err.find("broken.png"), std::string::npos) << broken.err;
}

}  // namespace
}  // namespace cloudbook
