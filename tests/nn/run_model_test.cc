// A finished run's model (shared/formats/run_model.h) as local mode keeps it, and the
// predictor that applies it (shared/nn/model_predictor.h): on the run's own test set the
// predictor gives the run's composed figures bit for bit; the files are checked when read.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <string>

#include "maker/local_runner.h"
#include "maker/maker.h"
#include "shared/composed_score.h"
#include "shared/data/project_data.h"
#include "shared/formats/run_model.h"
#include "shared/nn/model_predictor.h"
#include "shared/project_layout.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;

class RunModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = scratch_.path() + "/p";
    if (!testing::SetUpFashionMlpProject(project_)) GTEST_SKIP() << "no Fashion-MNIST";
    MakeOptions make;
    make.project_folder = project_;
    make.train_limit = 600;
    make.test_limit = 200;
    auto made = MakeDeployableUnits(make);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
  }

  Json Run(const std::string& name) {
    LocalRunOptions options;
    options.project_folder = project_;
    options.run_name = name;
    options.threads = 1;
    auto report = RunLocally(options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? report->results : Json();
  }

  SharedFolderLayout Shared() const { return SharedFolderLayout(project_ + "/distributed"); }

  testing::ScratchDir scratch_;
  std::string project_;
};

TEST_F(RunModelTest, LocalRunKeepsAModelThatReproducesItsComposedFigures) {
  const Json results = Run("first");
  ASSERT_TRUE(results.contains("model")) << results.dump(2);
  auto model = ReadRunModel(Shared(), "first");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->composition, "product");
  EXPECT_EQ(model->mode, "local");
  EXPECT_EQ(model->weights.size(), 3u);
  EXPECT_EQ(model->input_shape, (std::vector<int64_t>{28, 28}));
  EXPECT_EQ(ModelInputScale(*model), 255.0);

  auto predictor = ModelPredictor::Load(*model);
  ASSERT_TRUE(predictor.ok()) << predictor.status().ToString();
  const ProjectLayout layout(project_);
  auto data = LoadProjectData(layout, model->program(), model->input_shape);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  auto composed = (*predictor)->Predict(data->test.x);
  ASSERT_TRUE(composed.ok()) << composed.status().ToString();
  ASSERT_EQ(composed->predictions.size(), data->test.labels.size());
  int64_t correct = 0;
  for (size_t i = 0; i < composed->predictions.size(); ++i) {
    correct += composed->predictions[i] == data->test.labels[i];
  }
  EXPECT_EQ(static_cast<double>(correct) / static_cast<double>(data->test.labels.size()),
            results["composed"]["metrics"]["accuracy"].get<double>());
  // Composed probabilities: rows sum to 1.
  double row_sum = 0;
  for (int64_t c = 0; c < 10; ++c) row_sum += composed->outputs.values[static_cast<size_t>(c)];
  EXPECT_NEAR(row_sum, 1.0, 1e-5);

  // A wrong input shape is the caller's fault, said with the expected shape.
  Array wrong{{2, 27}, std::vector<float>(54, 0.f)};
  auto refused = (*predictor)->Predict(wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("[2, 28, 28]"), std::string::npos)
      << refused.status().message();
}

TEST_F(RunModelTest, TheNewestModelIsTheDefaultAndDamagedWeightsAreNamed) {
  Run("older");
  Run("newer");
  auto runs = ListRunModels(Shared());
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(*runs, (std::vector<std::string>{"newer", "older"}));
  auto latest = OpenRunModel(Shared(), "");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->run, "newer");

  EXPECT_EQ(OpenRunModel(Shared(), "../older").status().code(), Status::Code::kInvalidArgument);
  const Status missing = OpenRunModel(Shared(), "never").status();
  EXPECT_EQ(missing.code(), Status::Code::kNotFound);
  EXPECT_NE(missing.message().find("cloudbook-maker --local"), std::string::npos);

  // A weights file cut short: the reader names it before any tensor is loaded.
  const std::string weights = Shared().model_folder("older") + "/subnet_1.pt";
  fs::resize_file(weights, fs::file_size(weights) - 10);
  const Status torn = ReadRunModel(Shared(), "older").status();
  EXPECT_EQ(torn.code(), Status::Code::kCorruption);
  EXPECT_NE(torn.message().find("subnet_1.pt"), std::string::npos) << torn.message();

  // Same size, other bytes: the checkpoint's own hash catches it when the subnet is loaded.
  const std::string other = Shared().model_folder("newer") + "/subnet_2.pt";
  std::string bytes = testing::ReadFileOrDie(other);
  bytes[bytes.size() - 3] ^= 0x5A;
  testing::WriteFile(other, bytes);
  auto model = ReadRunModel(Shared(), "newer");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Status forged = ModelPredictor::Load(*model).status();
  EXPECT_FALSE(forged.ok());
  EXPECT_NE(forged.message().find("subnet_2.pt"), std::string::npos) << forged.message();

  // Without a model.json the folder is not a model (a run cut off while keeping it).
  ASSERT_TRUE(fs::remove(Shared().model_file("newer")));
  runs = ListRunModels(Shared());
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(*runs, std::vector<std::string>{"older"});
}

}  // namespace
}  // namespace cloudbook
