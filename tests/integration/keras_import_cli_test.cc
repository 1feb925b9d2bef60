// `cloudbook-maker import` as users run it: a real cloudbook-maker process imports an
// original-style SkyNNet program (tests/testdata/keras/) into a project, then the usual
// `cloudbook-maker -p P --subnets 3 --local` trains the subnets on a small Fashion-MNIST slice.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/filesystem.hpp>
#include <cstdio>
#include <string>

#include "shared/json_io.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::ScratchDir;

struct Output {
  int exit_code = -1;
  std::string text;  // stdout and stderr
};

Output RunMaker(const std::string& command) {
  Output result;
  FILE* pipe = ::popen((command + " 2>&1 </dev/null").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.text.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Maker() { return std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker"; }
std::string TestProgram(const std::string& name) {
  return std::string(CLOUDBOOK_SOURCE_DIR) + "/tests/testdata/keras/" + name;
}
bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class KerasImportRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(testing::FashionMnistDir() + "/train-images-idx3-ubyte.gz")) {
      GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
    }
  }

  // Imports, links the data set in, trains 3 subnets locally on a slice; the results.
  Json ImportAndTrain(const std::string& program, const std::string& stem) {
    const Output imported =
        RunMaker(Maker() + " import " + TestProgram(program) + " -p " + project_.path());
    EXPECT_EQ(imported.exit_code, 0) << imported.text;
    EXPECT_TRUE(Contains(imported.text, "wrote " + project_.Join("original/" + stem + ".yaml")))
        << imported.text;
    EXPECT_TRUE(Contains(imported.text, "MISSING  fashion-mnist/train-images-idx3-ubyte.gz"))
        << imported.text;
    EXPECT_TRUE(Contains(imported.text, "ln -s /usr/share/datasets/fashion-mnist"))
        << imported.text;
    fs::create_directories(project_.Join("distributed/working_dir"));
    fs::create_directory_symlink(testing::FashionMnistDir(),
                                 project_.Join("distributed/working_dir/fashion-mnist"));
    // Importing again is a no-op that now finds the data.
    const Output again =
        RunMaker(Maker() + " -p " + project_.path() + " import " + TestProgram(program));
    EXPECT_EQ(again.exit_code, 0) << again.text;
    EXPECT_TRUE(Contains(again.text, "unchanged: ")) << again.text;
    EXPECT_TRUE(Contains(again.text, "present  fashion-mnist/train-images-idx3-ubyte.gz"))
        << again.text;
    const Output run =
        RunMaker(Maker() + " -p " + project_.path() +
                 " --subnets 3 --train-limit 3000 --test-limit 1000 --local --run-name "
                 "imported --threads 2");
    EXPECT_EQ(run.exit_code, 0) << run.text;
    auto results = ReadJsonFile(project_.Join("distributed/results/imported.json"));
    EXPECT_TRUE(results.ok()) << results.status().ToString() << "\n" << run.text;
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

TEST(KerasImportCommand, BadProgramsAndFilesInTheWayWriteNothing) {
  ScratchDir project;
  const Output bad = RunMaker(Maker() + " import " + TestProgram("bad_unsupported_layer.py") +
                              " -p " + project.path());
  EXPECT_EQ(bad.exit_code, 3) << bad.text;
  EXPECT_TRUE(Contains(bad.text, "bad_unsupported_layer.py:13: ")) << bad.text;
  EXPECT_TRUE(Contains(bad.text, "nothing was written")) << bad.text;
  EXPECT_FALSE(fs::exists(project.Join("original")));

  testing::WriteFile(project.Join("original/mlp_functional.yaml"), "name: mine\n");
  const Output in_the_way =
      RunMaker(Maker() + " import " + TestProgram("mlp_functional.py") + " -p " + project.path());
  EXPECT_EQ(in_the_way.exit_code, 4) << in_the_way.text;
  EXPECT_TRUE(Contains(in_the_way.text, "--force")) << in_the_way.text;
  EXPECT_EQ(testing::ReadFileOrDie(project.Join("original/mlp_functional.yaml")), "name: mine\n");
  const Output forced = RunMaker(Maker() + " import " + TestProgram("mlp_functional.py") + " -p " +
                                 project.path() + " --force --name fashion");
  EXPECT_EQ(forced.exit_code, 0) << forced.text;
  EXPECT_TRUE(fs::exists(project.Join("original/fashion.yaml")));
  EXPECT_TRUE(Contains(forced.text, "original/ also holds mlp_functional.yaml")) << forced.text;

  const Output warned =
      RunMaker(Maker() + " import " + TestProgram("misspelt_names.py") + " -p " + project.path());
  EXPECT_EQ(warned.exit_code, 0) << warned.text;
  EXPECT_TRUE(Contains(warned.text, "'_EPOCHS_' is not a tagged name")) << warned.text;

  const Output missing = RunMaker(Maker() + " import /nonexistent/x.py -p " + project.path());
  EXPECT_EQ(missing.exit_code, 2) << missing.text;
  const Output no_project = RunMaker(Maker() + " import " + TestProgram("mlp_functional.py"));
  EXPECT_EQ(no_project.exit_code, 2) << no_project.text;
  EXPECT_TRUE(Contains(no_project.text, "--project-folder")) << no_project.text;
  const Output help = RunMaker(Maker() + " import --help");
  EXPECT_EQ(help.exit_code, 0) << help.text;
  EXPECT_TRUE(Contains(help.text, "--project-folder")) << help.text;
  EXPECT_TRUE(Contains(help.text, "Exit codes")) << help.text;
}

}  // namespace
}  // namespace cloudbook
