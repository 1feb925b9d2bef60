// `cloudbook-maker import` as users run it: a real cloudbook-maker process imports an
// original-style SkyNNet program (tests/testdata/keras/) into a project, then the usual
// `cloudbook-maker -p P --subnets 3 --local` trains the subnets on a small Fashion-MNIST slice.
// Each of the five example programs (MLP, CNN, binary net, GRU, autoencoder) trains end to end.
#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/filesystem.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "shared/data/idx_reader.h"
#include "shared/exit_codes.h"
#include "shared/json_io.h"
#include "tests/idx_test_files.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::ScratchDir;

std::string Maker() { return std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker"; }
std::string TestProgram(const std::string& name) {
  return std::string(CLOUDBOOK_SOURCE_DIR) + "/tests/testdata/keras/" + name;
}
bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// An IDX file of unsigned bytes (type 0x08), gzip-compressed as the MNIST family ships.
void WriteGzipUbyteIdx(const std::string& path, const std::vector<int64_t>& shape,
                       const std::vector<float>& values) {
  const std::vector<uint32_t> dims(shape.begin(), shape.end());
  const std::vector<uint8_t> bytes(values.begin(), values.end());
  testing::WriteGzip(path, testing::UbyteIdx(dims, bytes));
}

// What configs/fashion_binary/prepare_data.py makes, from the first `limit` samples of each
// split: class 0 (T-shirt/top) as label 0 and class 6 (Shirt) as label 1, in `folder`.
void WriteFashionBinary(const std::string& folder, int64_t train_limit, int64_t test_limit) {
  fs::create_directories(folder);
  for (const auto& [split, limit] : {std::pair<std::string, int64_t>{"train", train_limit},
                                     std::pair<std::string, int64_t>{"t10k", test_limit}}) {
    const std::string images_name = split + "-images-idx3-ubyte.gz";
    const std::string labels_name = split + "-labels-idx1-ubyte.gz";
    auto images = ReadIdxFile(testing::FashionMnistDir() + "/" + images_name, {1.0, limit});
    auto labels = ReadIdxFile(testing::FashionMnistDir() + "/" + labels_name, {1.0, limit});
    ASSERT_TRUE(images.ok()) << images.status().ToString();
    ASSERT_TRUE(labels.ok()) << labels.status().ToString();
    std::vector<int64_t> kept;
    std::vector<float> kept_labels;
    for (int64_t row = 0; row < labels->rows(); ++row) {
      const float label = labels->values[static_cast<size_t>(row)];
      if (label != 0 && label != 6) continue;
      kept.push_back(row);
      kept_labels.push_back(label == 0 ? 0.0f : 1.0f);
    }
    const Array kept_images = images->SelectRows(kept);
    WriteGzipUbyteIdx(folder + "/" + images_name, kept_images.shape, kept_images.values);
    WriteGzipUbyteIdx(folder + "/" + labels_name, {static_cast<int64_t>(kept.size())}, kept_labels);
  }
}

// The data a test program reads, in distributed/working_dir/<folder>: Fashion-MNIST itself
// (linked, as the import's hint says) or the two-class files of the binary net.
enum class Data { kFashionMnist, kFashionBinary };

struct Slice {
  int train_limit = 3000;
  int test_limit = 1000;
};

class KerasImportRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(testing::FashionMnistDir() + "/train-images-idx3-ubyte.gz")) {
      GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
    }
  }

  // Imports, puts the data in, trains 3 subnets locally on a slice; the results.
  Json ImportAndTrain(const std::string& program, const std::string& stem,
                      Data data = Data::kFashionMnist, Slice slice = {}) {
    const std::string folder = data == Data::kFashionMnist ? "fashion-mnist" : "fashion-binary";
    const testing::CommandResult imported = testing::RunShellMerged(
        Maker() + " import " + TestProgram(program) + " -p " + project_.path());
    EXPECT_EQ(imported.exit_code, 0) << imported.out;
    EXPECT_TRUE(Contains(imported.out, "wrote " + project_.Join("original/" + stem + ".yaml")))
        << imported.out;
    EXPECT_TRUE(Contains(imported.out, "MISSING  " + folder + "/train-images-idx3-ubyte.gz"))
        << imported.out;
    const std::string working_dir = project_.Join("distributed/working_dir");
    fs::create_directories(working_dir);
    if (data == Data::kFashionMnist) {
      EXPECT_TRUE(Contains(imported.out, "ln -s /usr/share/datasets/fashion-mnist"))
          << imported.out;
      fs::create_directory_symlink(testing::FashionMnistDir(), working_dir + "/" + folder);
    } else {
      // Enough of each split for the slice: about a fifth of the samples are of the two classes.
      WriteFashionBinary(working_dir + "/" + folder, 6 * slice.train_limit, 6 * slice.test_limit);
    }
    // Importing again is a no-op that now finds the data.
    const testing::CommandResult again = testing::RunShellMerged(
        Maker() + " -p " + project_.path() + " import " + TestProgram(program));
    EXPECT_EQ(again.exit_code, 0) << again.out;
    EXPECT_TRUE(Contains(again.out, "unchanged: ")) << again.out;
    EXPECT_TRUE(Contains(again.out, "present  " + folder + "/train-images-idx3-ubyte.gz"))
        << again.out;
    const testing::CommandResult run = testing::RunShellMerged(
        Maker() + " -p " + project_.path() + " --subnets 3 --train-limit " +
        std::to_string(slice.train_limit) + " --test-limit " + std::to_string(slice.test_limit) +
        " --local --run-name imported --threads 2");
    EXPECT_EQ(run.exit_code, 0) << run.out;
    auto results = ReadJsonFile(project_.Join("distributed/results/imported.json"));
    EXPECT_TRUE(results.ok()) << results.status().ToString() << "\n" << run.out;
    return results.ok() ? *results : Json();
  }

  ScratchDir project_;
};

TEST_F(KerasImportRun, FunctionalMlpImportsAndTrainsEndToEnd) {
  const Json results = ImportAndTrain("mlp_functional.py", "mlp_functional");
  ASSERT_TRUE(results.is_object());
  ASSERT_EQ(results["subnets"].size(), 3u);
  EXPECT_EQ(results["subnets"][0]["widths"]["_NEURON_1"].get<int>(), 86);
  EXPECT_EQ(results["subnets"][2]["classes"], Json({4, 5, 6, 7, 8, 9}));
  EXPECT_GT(results["composed"]["metrics"]["accuracy"].get<double>(), 0.6) << "chance is 0.1";
}

TEST_F(KerasImportRun, AutoencoderImportsAndTrainsEndToEnd) {
  const Json results = ImportAndTrain("autoencoder.py", "autoencoder");
  ASSERT_TRUE(results.is_object());
  ASSERT_EQ(results["subnets"].size(), 3u);
  const double mse = results["composed"]["metrics"]["mse"].get<double>();
  EXPECT_GT(mse, 0.0);
  EXPECT_LT(mse, 0.08) << "predicting the mean image gives about 0.09";
}

TEST_F(KerasImportRun, SequentialCnnImportsAndTrainsEndToEnd) {
  const Json results =
      ImportAndTrain("cnn_sequential.py", "cnn_sequential", Data::kFashionMnist, {2000, 500});
  ASSERT_TRUE(results.is_object());
  ASSERT_EQ(results["subnets"].size(), 3u);
  // F = 1.5: 25 -> 17 and 64 -> 43 filters or units; 7 + 7 + 6 of the 10 classes.
  const Json& widths = results["subnets"][0]["widths"];
  EXPECT_EQ(widths["_FILTERS_1"].get<int>(), 17);
  EXPECT_EQ(widths["_FILTERS_2"].get<int>(), 43);
  EXPECT_EQ(widths["_FILTERS_3"].get<int>(), 43);
  EXPECT_EQ(widths["_NEURON_1"].get<int>(), 43);
  EXPECT_EQ(results["subnets"][2]["classes"], Json({4, 5, 6, 7, 8, 9}));
  EXPECT_GT(results["composed"]["metrics"]["accuracy"].get<double>(), 0.3) << "chance is 0.1";
}

TEST_F(KerasImportRun, GruImportsAndTrainsEndToEnd) {
  const Json results = ImportAndTrain("gru_rows.py", "gru_rows", Data::kFashionMnist, {2000, 500});
  ASSERT_TRUE(results.is_object());
  ASSERT_EQ(results["subnets"].size(), 3u);
  EXPECT_EQ(results["subnets"][0]["widths"]["_CELL_1"].get<int>(), 43);  // 64 cells / 1.5
  EXPECT_EQ(results["subnets"][1]["classes"], Json({0, 1, 2, 3, 7, 8, 9}));
  EXPECT_GT(results["composed"]["metrics"]["accuracy"].get<double>(), 0.3) << "chance is 0.1";
}

TEST_F(KerasImportRun, BinaryNetOnIdxFilesImportsAndTrainsEndToEnd) {
  const Json results =
      ImportAndTrain("binary_net.py", "binary_net", Data::kFashionBinary, {2000, 500});
  ASSERT_TRUE(results.is_object());
  ASSERT_EQ(results["subnets"].size(), 2u) << "binary: always 2 subnets, one per half";
  for (const Json& subnet : results["subnets"]) {  // F = 2; the 2 outputs stay
    EXPECT_EQ(subnet["widths"]["_NEURON_1"].get<int>(), 32);
    EXPECT_EQ(subnet["widths"]["_NEURON_2"].get<int>(), 2);
  }
  EXPECT_EQ(results["subnets"][1]["half"].get<int>(), 1);
  EXPECT_GT(results["composed"]["metrics"]["accuracy"].get<double>(), 0.6) << "chance is 0.5";
}

TEST(KerasImportCommand, BadProgramsAndFilesInTheWayWriteNothing) {
  ScratchDir project;
  const testing::CommandResult bad = testing::RunShellMerged(
      Maker() + " import " + TestProgram("bad_unsupported_layer.py") + " -p " + project.path());
  EXPECT_EQ(bad.exit_code, kExitInvalidInput) << bad.out;
  EXPECT_TRUE(Contains(bad.out, "bad_unsupported_layer.py:13: ")) << bad.out;
  EXPECT_TRUE(Contains(bad.out, "nothing was written")) << bad.out;
  EXPECT_FALSE(fs::exists(project.Join("original")));

  testing::WriteFile(project.Join("original/mlp_functional.yaml"), "name: mine\n");
  const testing::CommandResult in_the_way = testing::RunShellMerged(
      Maker() + " import " + TestProgram("mlp_functional.py") + " -p " + project.path());
  EXPECT_EQ(in_the_way.exit_code, kExitIo) << in_the_way.out;
  EXPECT_TRUE(Contains(in_the_way.out, "--force")) << in_the_way.out;
  EXPECT_EQ(testing::ReadFileOrDie(project.Join("original/mlp_functional.yaml")), "name: mine\n");
  const testing::CommandResult forced =
      testing::RunShellMerged(Maker() + " import " + TestProgram("mlp_functional.py") + " -p " +
                              project.path() + " --force --name fashion");
  EXPECT_EQ(forced.exit_code, 0) << forced.out;
  EXPECT_TRUE(fs::exists(project.Join("original/fashion.yaml")));
  EXPECT_TRUE(Contains(forced.out, "original/ also holds mlp_functional.yaml")) << forced.out;

  const testing::CommandResult warned = testing::RunShellMerged(
      Maker() + " import " + TestProgram("misspelt_names.py") + " -p " + project.path());
  EXPECT_EQ(warned.exit_code, 0) << warned.out;
  EXPECT_TRUE(Contains(warned.out, "'_EPOCHS_' is not a tagged name")) << warned.out;

  const testing::CommandResult missing =
      testing::RunShellMerged(Maker() + " import /nonexistent/x.py -p " + project.path());
  EXPECT_EQ(missing.exit_code, kExitUsage) << missing.out;
  const testing::CommandResult no_project =
      testing::RunShellMerged(Maker() + " import " + TestProgram("mlp_functional.py"));
  EXPECT_EQ(no_project.exit_code, kExitUsage) << no_project.out;
  EXPECT_TRUE(Contains(no_project.out, "--project-folder")) << no_project.out;
  const testing::CommandResult help = testing::RunShellMerged(Maker() + " import --help");
  EXPECT_EQ(help.exit_code, 0) << help.out;
  EXPECT_TRUE(Contains(help.out, "--project-folder")) << help.out;
  EXPECT_TRUE(Contains(help.out, "Exit codes")) << help.out;
}

}  // namespace
}  // namespace cloudbook
