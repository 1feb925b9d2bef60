// The maker as users run it: a real cloudbook-maker process on a project folder with
// Fashion-MNIST linked into working_dir, deconstructing the configs/fashion_mlp program.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <cstdio>
#include <string>

#include "shared/exit_codes.h"
#include "shared/json_io.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::ScratchDir;

std::string Maker() { return std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker"; }

// A project folder holding configs/fashion_mlp with the data set linked in.
class FashionProject : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::SetUpFashionMlpProject(project_.path())) {
      GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
    }
  }

  Json RunLocal(const std::string& run_name, const std::string& extra) {
    const testing::CommandResult run = testing::RunShellMerged(
        Maker() + " -p " + project_.path() + " --subnets 3 --train-limit 4000 " +
        "--test-limit 2000 --local --run-name " + run_name + " " + extra);
    EXPECT_EQ(run.exit_code, 0) << run.out;
    auto results = ReadJsonFile(project_.Join("distributed/results/" + run_name + ".json"));
    EXPECT_TRUE(results.ok()) << results.status().ToString() << "\n" << run.out;
    return results.ok() ? *results : Json();
  }

  ScratchDir project_;
};

TEST_F(FashionProject, ComposedAccuracyIsWellAboveChanceAndNearTheBaseline) {
  const Json results = RunLocal("with-baseline", "--baseline");
  ASSERT_TRUE(results.is_object());
  const double composed = results["composed"]["metrics"]["accuracy"].get<double>();
  const double baseline = results["baseline"]["metrics"]["accuracy"].get<double>();
  EXPECT_GT(composed, 0.70) << "chance is 0.10";
  // Stated margin: on 4000 samples the composed prediction stays within 4 points of the
  // original network trained the same way (the full data set is in bench/).
  EXPECT_NEAR(composed, baseline, 0.04);
  ASSERT_EQ(results["subnets"].size(), 3u);
  EXPECT_EQ(results["subnets"][2]["classes"], Json({4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(results["subnets"][0]["widths"]["_NEURON_1"].get<int>(), 86);
  EXPECT_EQ(results["subnets"][0]["epochs"].get<int>(), 7);
  EXPECT_FALSE(results["subnets"][0]["history"].empty());
}

// Identical when each subnet gets the same number of threads, however many subnets run at
// once (reductions split work by thread count, so that count is part of the seed).
TEST_F(FashionProject, SameSeedsGiveTheSameComposedResult) {
  const Json first = RunLocal("one-at-a-time", "--jobs 1 --threads 1");
  const Json second = RunLocal("two-at-a-time", "--jobs 2 --threads 2");
  ASSERT_TRUE(first.is_object() && second.is_object());
  EXPECT_EQ(first["composed"]["metrics"], second["composed"]["metrics"]);
}

// --original-only trains the original network alone, and on the same thread count exactly as
// --baseline does after the subnets (same seed, same threads: the same network).
TEST_F(FashionProject, OriginalOnlyTrainsTheOriginalAloneLikeTheBaseline) {
  const Json alone = RunLocal("original-only", "--original-only --threads 1");
  const Json with_subnets = RunLocal("baseline-one-thread", "--baseline --jobs 1 --threads 1");
  ASSERT_TRUE(alone.is_object() && with_subnets.is_object());
  EXPECT_TRUE(alone["original_only"].get<bool>());
  EXPECT_TRUE(alone["composed"].is_null());
  EXPECT_TRUE(alone["subnets"].empty());
  EXPECT_EQ(alone["train_samples"].get<int>(), with_subnets["train_samples"].get<int>());
  const Json& original = alone["baseline"];
  EXPECT_EQ(original["threads"].get<int>(), 1);
  EXPECT_EQ(original["epochs"].get<int>(), 10);
  EXPECT_EQ(original["history"].size(), 10u);
  EXPECT_GT(original["metrics"]["accuracy"].get<double>(), 0.70) << "chance is 0.10";
  EXPECT_EQ(original["metrics"], with_subnets["baseline"]["metrics"]);
  EXPECT_EQ(original["widths"], with_subnets["baseline"]["widths"]);
  EXPECT_GT(original["train_seconds"].get<double>(), 0.0);
  EXPECT_LT(original["train_seconds"].get<double>(), alone["wall_seconds"].get<double>());
}

TEST_F(FashionProject, AFailedMakeWritesNothingAndKeepsTheOriginal) {
  const testing::CommandResult good =
      testing::RunShellMerged(Maker() + " -p " + project_.path() + " --subnets 3");
  ASSERT_EQ(good.exit_code, 0) << good.out;
  const std::string du_list = testing::ReadFileOrDie(project_.Join("distributed/du_list.json"));
  const std::string program = testing::ReadFileOrDie(project_.Join("original/fashion_mlp.yaml"));

  // A width of 3 cannot be cut by F = 2 (n = 6): the maker must refuse and write nothing.
  testing::WriteFile(project_.Join("original/fashion_mlp.yaml"), [&] {
    std::string text = program;
    text.replace(text.find("_NEURON_2: 60"), 13, "_NEURON_2: 3");
    return text;
  }());
  const testing::CommandResult bad =
      testing::RunShellMerged(Maker() + " -p " + project_.path() + " --subnets 6");
  EXPECT_EQ(bad.exit_code, kExitInvalidInput) << bad.out;
  EXPECT_NE(bad.out.find("_NEURON_2 = 3"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("the largest n that works is 3"), std::string::npos) << bad.out;
  EXPECT_EQ(testing::ReadFileOrDie(project_.Join("distributed/du_list.json")), du_list);
  EXPECT_TRUE(fs::exists(project_.Join("distributed/du_files/du_2.json")));
}

TEST(MakerCommandLine, HelpAndBadArguments) {
  const testing::CommandResult help = testing::RunShellMerged(Maker() + " --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--project-folder"), std::string::npos);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);

  const testing::CommandResult missing = testing::RunShellMerged(Maker());
  EXPECT_EQ(missing.exit_code, kExitUsage) << missing.out;
  EXPECT_NE(missing.out.find("--project-folder"), std::string::npos) << missing.out;

  const testing::CommandResult not_local =
      testing::RunShellMerged(Maker() + " -p /tmp --original-only");
  EXPECT_EQ(not_local.exit_code, kExitUsage) << not_local.out;
  EXPECT_NE(not_local.out.find("--original-only needs --local"), std::string::npos)
      << not_local.out;

  const testing::CommandResult negative =
      testing::RunShellMerged(Maker() + " -p /tmp --subnets -4");
  EXPECT_EQ(negative.exit_code, kExitUsage) << negative.out;

  ScratchDir empty;
  const testing::CommandResult no_program =
      testing::RunShellMerged(Maker() + " -p " + empty.path());
  EXPECT_EQ(no_program.exit_code, kExitInvalidInput) << no_program.out;
  EXPECT_NE(no_program.out.find("original"), std::string::npos) << no_program.out;
  EXPECT_FALSE(fs::exists(empty.Join("distributed")));
}

}  // namespace
}  // namespace cloudbook
